/**
 * Options of the GPIO drivers, as JSON Schemas (hal/options-schema.ts): the one rule set the
 * drivers, the profile loader and config/boards/board.schema.json use.
 */
import type { JsonSchema } from '../options-schema.js';

const bcm = { type: 'integer', minimum: 0, maximum: 63, description: 'BCM pin number' };

/** A pin: its BCM number, or {pin, activeLow, debounceMs}. */
export const pinSchema: JsonSchema = {
  anyOf: [
    bcm,
    {
      type: 'object',
      additionalProperties: false,
      required: ['pin'],
      properties: { pin: bcm, activeLow: { type: 'boolean' }, debounceMs: { type: 'number', minimum: 0 } },
    },
  ],
};

/** Where BCM numbers start in sysfs numbering: given, or found by the header chip's label. */
export const pinSourceProperties = {
  gpioBase: { type: 'integer', minimum: 0, description: 'sysfs number of BCM 0 (default: found from the header chip)' },
  chipLabel: { type: 'string', minLength: 1, description: 'label of the header GPIO chip to look for' },
};

export const gpioRelaySchema: JsonSchema = {
  type: 'object',
  description: 'Contactor on a GPIO output, with an optional mirror-contact input.',
  additionalProperties: false,
  required: ['pin'],
  properties: {
    pin: bcm,
    activeLow: { type: 'boolean', default: false },
    feedback: pinSchema,
    settleMs: { type: 'number', minimum: 0, default: 300 },
    ...pinSourceProperties,
  },
};

export const gpioLockSchema: JsonSchema = {
  type: 'object',
  description: 'Connector lock: motor (lockPin + unlockPin) or solenoid (lockPin), with a sense input.',
  additionalProperties: false,
  required: ['lockPin', 'sense'],
  properties: {
    lockPin: pinSchema,
    unlockPin: pinSchema,
    sense: pinSchema,
    timeoutMs: { type: 'number', minimum: 10, default: 1500 },
    ...pinSourceProperties,
  },
};

/** Fault kinds an input may hold while active (hal/types.ts HalFaultKind), or none. */
const INPUT_FAULTS = [
  'emergency-stop',
  'contactor-welded',
  'contactor-stuck-open',
  'lock-failure',
  'meter-silent',
  'rcd-trip',
  'diode-failure',
  'pilot-error',
  'pilot-board-lost',
  'reader-failure',
  'overcurrent',
  'high-temperature',
  'ground-failure',
  'port-lost',
  'comm-failure',
  'none',
];

export const gpioInputSchema: JsonSchema = {
  type: 'object',
  description: 'Debounced digital input (emergency stop): holds a fault while active.',
  additionalProperties: false,
  required: ['pin'],
  properties: {
    pin: bcm,
    activeLow: { type: 'boolean', default: false },
    debounceMs: { type: 'number', minimum: 0, default: 20 },
    fault: { enum: INPUT_FAULTS, default: 'emergency-stop' },
    severity: { enum: ['high', 'low'], default: 'high' },
    ...pinSourceProperties,
  },
};

export const gpioLedSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pin'],
  properties: { pin: bcm, activeLow: { type: 'boolean', default: false }, ...pinSourceProperties },
};
