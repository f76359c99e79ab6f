/** Options of the I2C display driver, as a JSON Schema (hal/options-schema.ts). */
import type { JsonSchema } from '../options-schema.js';

export const hd44780Schema: JsonSchema = {
  type: 'object',
  description: 'HD44780 character LCD behind a PCF8574 I2C backpack.',
  additionalProperties: false,
  properties: {
    bus: { type: 'integer', minimum: 0, default: 1, description: '/dev/i2c-N' },
    address: { type: 'integer', minimum: 0x03, maximum: 0x77, default: 0x27 },
    cols: { type: 'integer', minimum: 8, maximum: 40, default: 20 },
    rows: { type: 'integer', minimum: 1, maximum: 4, default: 4 },
    backlight: { type: 'boolean', default: true },
  },
};
