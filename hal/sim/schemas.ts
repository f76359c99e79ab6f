/** Options of the simulated parts, as JSON Schemas (hal/options-schema.ts): only the display has any. */
import type { JsonSchema } from '../options-schema.js';

export const simNoOptionsSchema: JsonSchema = {
  type: 'object',
  description: 'A part of the simulated board (the virtual EV is set by the EVSE\'s "ev").',
  additionalProperties: false,
  properties: {},
};

export const simDisplaySchema: JsonSchema = {
  type: 'object',
  description: 'Simulated character display, like the HD44780\'s.',
  additionalProperties: false,
  properties: {
    cols: { type: 'integer', minimum: 8, maximum: 40, default: 20 },
    rows: { type: 'integer', minimum: 1, maximum: 4, default: 4 },
  },
};
