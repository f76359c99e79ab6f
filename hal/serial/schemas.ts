/**
 * Options of the serial drivers, as JSON Schemas (hal/options-schema.ts): the one rule set the
 * drivers, the profile loader and config/boards/board.schema.json use. Defaults are the schema's.
 */
import type { JsonSchema, OptionRules } from '../options-schema.js';

const port = { type: 'string', minLength: 1, description: 'serial device, e.g. /dev/ttyUSB0' };
const baudRate = (def: number) => ({ type: 'integer', minimum: 300, default: def });
const reopen = {
  reopenMinMs: { type: 'number', minimum: 10, default: 1000, description: 'first wait before reopening a lost port' },
  reopenMaxMs: { type: 'number', minimum: 10, default: 30_000, description: 'longest wait between reopen attempts' },
};

/** The RAPI conversation of an OpenEVSE board, shared by its pilot and contactor parts. */
export const rapiLinkProperties = {
  port,
  baudRate: baudRate(115200),
  timeoutMs: { type: 'number', minimum: 10, default: 1000, description: 'wait for $OK/$NK' },
  retries: { type: 'integer', minimum: 0, default: 2 },
  requireChecksum: { type: 'boolean', default: true },
  ...reopen,
};

export const rapiContactorSchema: JsonSchema = {
  type: 'object',
  description: 'OpenEVSE contactor over RAPI: the same port settings as the pilot of this board.',
  additionalProperties: false,
  required: ['port'],
  properties: rapiLinkProperties,
};

export const rapiPilotSchema: JsonSchema = {
  type: 'object',
  description: 'OpenEVSE as the pilot controller, over RAPI.',
  additionalProperties: false,
  required: ['port'],
  properties: {
    ...rapiLinkProperties,
    pollMs: { type: 'number', minimum: 100, default: 2000, description: '$GS poll period (also the board heartbeat)' },
    failuresBeforeLost: { type: 'integer', minimum: 1, default: 2 },
    supervisionS: { type: 'integer', minimum: 0, maximum: 65535, default: 0, description: 'board falls back to supervisionAmps without a host pulse for this long; 0 off; at least 3 poll periods' },
    supervisionAmps: { type: 'integer', minimum: 0, maximum: 80, default: 6 },
  },
};

export const linePilotSchema: JsonSchema = {
  type: 'object',
  description: 'Pilot board speaking docs/pilot-line-protocol.md.',
  additionalProperties: false,
  required: ['port'],
  properties: {
    port,
    baudRate: baudRate(115200),
    heartbeatMs: { type: 'number', minimum: 100, default: 1000 },
    boardTimeoutMs: { type: 'number', minimum: 100, default: 3000, description: 'at least heartbeatMs' },
    startupWaitMs: { type: 'number', minimum: 0, default: 2000 },
    ...reopen,
    allowAbove80A: { type: 'boolean', default: false },
  },
};

const tokenKind = { enum: ['ISO14443', 'ISO15693', 'KeyCode', 'Local'] };

export const lineReaderSchema: JsonSchema = {
  type: 'object',
  description: 'Card reader printing one UID per line.',
  additionalProperties: false,
  required: ['port'],
  properties: {
    port,
    baudRate: baudRate(9600),
    holdMs: { type: 'number', minimum: 0, default: 2000, description: 'a card still on the reader is one tap' },
    kind: { ...tokenKind, default: 'ISO14443' },
    format: { enum: ['hex', 'text'], default: 'hex' },
  },
};

export const rdm6300Schema: JsonSchema = {
  type: 'object',
  description: 'RDM6300 125 kHz (EM4100) reader.',
  additionalProperties: false,
  required: ['port'],
  properties: {
    port,
    baudRate: baudRate(9600),
    holdMs: { type: 'number', minimum: 0, default: 2000 },
    // EM4100 is none of the ISO types OCPP names; 'Local' says "our own kind of id".
    kind: { ...tokenKind, default: 'Local' },
    idFormat: { enum: ['hex', 'decimal'], default: 'hex' },
  },
};

/** supervisionS, when on, must leave the host at least 3 polls to pulse. */
export const rapiPilotRules: OptionRules = (o) => {
  const s = o.supervisionS as number;
  const pollMs = o.pollMs as number;
  return s > 0 && s * 1000 < 3 * pollMs ? [{ pointer: '/supervisionS', problem: `must be at least 3 poll periods (${(3 * pollMs) / 1000} s)` }] : [];
};

export const linePilotRules: OptionRules = (o) =>
  (o.boardTimeoutMs as number) < (o.heartbeatMs as number) ? [{ pointer: '/boardTimeoutMs', problem: `must be >= heartbeatMs (${String(o.heartbeatMs)})` }] : [];
