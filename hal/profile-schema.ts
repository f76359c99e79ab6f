/**
 * The JSON Schema of a board profile (hal/profile.ts describes the format). A part is
 * `{ "driver": NAME, …options }`; its options are checked by the driver's own schema (hal/registry.ts).
 * editorBoardSchema() joins both into config/boards/board.schema.json for editors: that file is
 * generated (`npm run schema:boards`), and a test fails when it is stale.
 */
import type { JsonSchema } from './options-schema.js';
import { drivers, type PartKind } from './registry.js';

const part = (kind: PartKind): JsonSchema => ({ $ref: `#/definitions/${kind}` });

export const boardProfileSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/ocpp-station/ocpp-station/config/boards/board.schema.json',
  title: 'ocpp-station board profile',
  description: 'Which driver runs each part of the station and with what options. Documented in hal/profile.ts.',
  type: 'object',
  required: ['name', 'evses'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    nominalVoltageV: { type: 'number', minimum: 50, maximum: 500, description: 'nominal phase voltage for W <-> A in smart charging (default 230)' },
    evses: { type: 'array', minItems: 1, items: { $ref: '#/definitions/evse' } },
    reader: part('reader'),
    display: part('display'),
    emergencyStop: part('emergencyStop'),
  },
  definitions: {
    pilot: { $ref: '#/definitions/part' },
    contactor: { $ref: '#/definitions/part' },
    lock: { $ref: '#/definitions/part' },
    meter: { $ref: '#/definitions/part' },
    phaseSwitch: { $ref: '#/definitions/part' },
    reader: { $ref: '#/definitions/part' },
    display: { $ref: '#/definitions/part' },
    emergencyStop: { $ref: '#/definitions/part' },
    part: {
      type: 'object',
      description: 'A driver name; every other key is an option of that driver.',
      required: ['driver'],
      properties: { driver: { type: 'string', minLength: 1 } },
    },
    evse: {
      type: 'object',
      required: ['id', 'maxCurrentA', 'phases', 'connectorType', 'pilot', 'contactor', 'meter'],
      additionalProperties: false,
      properties: {
        id: { type: 'integer', minimum: 1 },
        maxCurrentA: { type: 'number', exclusiveMinimum: 0 },
        phases: { enum: [1, 3] },
        connectorType: { type: 'string', minLength: 1 },
        pilot: part('pilot'),
        contactor: part('contactor'),
        lock: part('lock'),
        phaseSwitch: part('phaseSwitch'),
        meter: part('meter'),
        ev: {
          type: 'object',
          description: 'The virtual EV of the simulated board.',
          additionalProperties: false,
          properties: {
            maxCurrentA: { type: 'number', minimum: 0 },
            phases: { enum: [1, 3] },
            batteryKWh: { type: 'number', exclusiveMinimum: 0 },
            startSocPercent: { type: 'number', minimum: 0, maximum: 100 },
            voltage: { type: 'number', exclusiveMinimum: 0 },
            cableAmps: { type: 'number', exclusiveMinimum: 0 },
            readyOnPlug: { type: 'boolean' },
            ventilation: { type: 'boolean' },
          },
        },
      },
    },
  },
};

/**
 * The profile schema with each part's options spelled out per driver (if driver is X then X's
 * options): what editors check and complete against. Made from the same schemas the loader uses.
 */
export function editorBoardSchema(): JsonSchema {
  const definitions: Record<string, unknown> = { ...(boardProfileSchema.definitions as Record<string, unknown>) };
  for (const kind of Object.keys(drivers) as PartKind[]) {
    const table = drivers[kind] as Record<string, { options: JsonSchema }>;
    const names = Object.keys(table);
    definitions[kind] = {
      type: 'object',
      required: ['driver'],
      properties: { driver: { enum: names } },
      allOf: names.map((name) => {
        const options = table[name]!.options;
        const props = (options.properties ?? {}) as Record<string, unknown>;
        return {
          if: { type: 'object', properties: { driver: { const: name } } },
          then: {
            type: 'object',
            ...(options.description ? { description: options.description } : {}),
            properties: { driver: { const: name }, ...props },
            ...(options.required ? { required: options.required } : {}),
            additionalProperties: false,
          },
        };
      }),
    };
  }
  return { ...boardProfileSchema, definitions };
}
