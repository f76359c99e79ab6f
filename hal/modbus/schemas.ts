/**
 * Options of the Modbus meter driver and the register maps (config/meters/MODEL.json or inline), as
 * JSON Schemas (hal/options-schema.ts): the one rule set the driver, the profile loader and
 * config/boards/board.schema.json use.
 */
import type { JsonSchema, OptionRules, SchemaProblem } from '../options-schema.js';
import { loadRegisterMap } from './register-map.js';

export const MEASURANDS = [
  'energyImportWh',
  'energyExportWh',
  'powerW',
  'powerL1W',
  'powerL2W',
  'powerL3W',
  'currentL1A',
  'currentL2A',
  'currentL3A',
  'voltageL1V',
  'voltageL2V',
  'voltageL3V',
  'frequencyHz',
] as const;

export const REGISTER_TYPES = ['float32', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'] as const;

const fn = { enum: ['input', 'holding'] };
const wordOrder = { enum: ['big', 'little'] };

const registerDef = {
  type: 'object',
  additionalProperties: false,
  required: ['address', 'type'],
  properties: {
    address: { type: 'integer', minimum: 0, maximum: 0xffff },
    type: { enum: [...REGISTER_TYPES] },
    scale: { type: 'number' },
    function: fn,
    wordOrder,
    unit: { type: 'string' },
    $comment: { type: 'string' },
  },
};

export const registerMapSchema: JsonSchema = {
  type: 'object',
  description: 'Which registers hold which measurand; energyImportWh is required (OCPP meter values start from it).',
  additionalProperties: false,
  required: ['model', 'registers'],
  properties: {
    $comment: { type: 'string' },
    model: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    function: { ...fn, default: 'input' },
    wordOrder: { ...wordOrder, default: 'big' },
    maxRegistersPerRead: { type: 'integer', minimum: 1, maximum: 125, default: 100 },
    maxGap: { type: 'integer', minimum: 0, default: 0 },
    registers: {
      type: 'object',
      required: ['energyImportWh'],
      propertyNames: { enum: [...MEASURANDS] },
      properties: { energyImportWh: registerDef },
      additionalProperties: registerDef,
    },
  },
};

export const modbusMeterSchema: JsonSchema = {
  type: 'object',
  description: 'Energy meter over Modbus: exactly one of "model" or "registerMap", and exactly one of "tcp" or "rtu".',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, description: 'a register map in config/meters/' },
    registerMap: registerMapSchema,
    tcp: {
      type: 'object',
      additionalProperties: false,
      required: ['host'],
      properties: { host: { type: 'string', minLength: 1 }, port: { type: 'integer', minimum: 1, maximum: 65535, default: 502 } },
    },
    rtu: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1 },
        baudRate: { type: 'integer', minimum: 300, default: 9600 },
        parity: { enum: ['none', 'even', 'odd'], default: 'none' },
        dataBits: { enum: [7, 8], default: 8 },
        stopBits: { enum: [1, 2], default: 1 },
      },
    },
    unit: { type: 'integer', minimum: 0, maximum: 247, default: 1 },
    timeoutMs: { type: 'number', minimum: 10, default: 1000 },
    retries: { type: 'integer', minimum: 0, default: 1 },
    failuresBeforeFault: { type: 'integer', minimum: 1, default: 3 },
    pollIntervalMs: { type: 'number', minimum: 0, default: 10_000, description: 'background poll; 0 = only when read' },
  },
};

/** Exactly one register map and exactly one connection. */
export const modbusMeterRules: OptionRules = (o) => {
  const out: SchemaProblem[] = [];
  if ((o.model !== undefined ? 1 : 0) + (o.registerMap !== undefined ? 1 : 0) !== 1) {
    out.push({ pointer: '', problem: 'give exactly one of "model" (config/meters/MODEL.json) or "registerMap"' });
  } else if (typeof o.model === 'string') {
    // The model names a file: a missing or bad one is refused with the profile, not when the meter is built.
    try {
      loadRegisterMap(o.model);
    } catch (err) {
      out.push({ pointer: '/model', problem: (err as Error).message });
    }
  }
  if ((o.tcp !== undefined ? 1 : 0) + (o.rtu !== undefined ? 1 : 0) !== 1) {
    out.push({ pointer: '', problem: 'give exactly one of "tcp" ({host, port}) or "rtu" ({path, baudRate, …})' });
  }
  return out;
};
