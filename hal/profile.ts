/**
 * Board profiles: which driver runs each part of the station, and with what options. A profile is
 * pure data in config/boards/NAME.json; swapping a board is a config change, not a code change.
 *
 * Format (hal/profile-schema.ts holds the rules; config/boards/board.schema.json is made from it and
 * from each driver's option schema, for editors):
 *
 *   {
 *     "name": "sim",                       board name, shown in logs and `sim status`
 *     "description": "…",                  optional, free text
 *     "evses": [                           one entry per EVSE (one connector each), ids 1..n, unique
 *       {
 *         "id": 1,
 *         "maxCurrentA": 32,               hardware limit per phase (cable, breaker)
 *         "phaseSwitch": { "driver": … }   optional: a relay that supplies 1 phase instead of 3 (sim only so far)
 *         "phases": 3,                     1 or 3
 *         "connectorType": "cType2",       OCPP 2.0.1 ConnectorEnumType value (e.g. cType2, sType2, cCCS2)
 *         "pilot":     { "driver": "sim" },
 *         "contactor": { "driver": "sim" },
 *         "lock":      { "driver": "sim" },    optional (tethered cable: no lock)
 *         "meter":     { "driver": "sim" },
 *         "ev": { … }                      optional, simulated board only: the virtual EV (see below)
 *       }
 *     ],
 *     "reader":        { "driver": "sim" },    optional, station-wide id-token reader
 *     "display":       { "driver": "sim" },    optional, station-wide text display
 *     "emergencyStop": { "driver": "…" }       optional, station-wide emergency-stop input
 *   }
 *
 * A part is `{ "driver": NAME, …options }`: every key other than "driver" is handed to the driver's
 * factory as its options (pins, serial port, Modbus address …; each driver documents its own).
 * hal/registry.ts lists the driver names known for each kind of part.
 *
 * The virtual EV of the simulated board ("ev", every key optional):
 *   maxCurrentA (32)  the most the EV draws per phase; it always follows a lower pilot PWM limit
 *   phases (the EVSE's)  phases the EV's charger uses, 1 or 3
 *   batteryKWh (60)   battery capacity
 *   startSocPercent (20)  state of charge each time the EV is plugged in
 *   voltage (230)     phase voltage in volts
 *   cableAmps (32)    proximity-pilot cable rating reported when plugged
 *   readyOnPlug (true)  the EV asks for energy as soon as it is plugged (else wait for `ev-ready`)
 *   ventilation (false) the EV asks for energy in state D instead of C
 *
 * Unknown keys are refused (a misspelt part would otherwise be silently missing), and so are options
 * a driver does not know: the profile loader checks each part with its driver's schema before anything
 * is built.
 *
 * Overrides (config hal.overrides) are merged deeply over the profile: objects merge key by key,
 * the "evses" array merges element by element matched on "id" (an unknown id adds an EVSE), any
 * other array or scalar is replaced.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { formatProblems, OptionError, optionProblems, schemaProblems, type SchemaProblem } from './options-schema.js';
import { boardProfileSchema } from './profile-schema.js';
import { lookupDriver, unknownDriverProblem, type PartKind } from './registry.js';

export interface PartSpec {
  driver: string;
  /** Driver options; what each driver accepts is its own business. */
  [option: string]: unknown;
}

export interface SimEvOptions {
  maxCurrentA?: number;
  phases?: 1 | 3;
  batteryKWh?: number;
  startSocPercent?: number;
  voltage?: number;
  cableAmps?: number;
  readyOnPlug?: boolean;
  ventilation?: boolean;
}

export interface EvseProfile {
  id: number;
  maxCurrentA: number;
  phases: 1 | 3;
  connectorType: string;
  pilot: PartSpec;
  contactor: PartSpec;
  lock?: PartSpec;
  meter: PartSpec;
  /** Optional phase-switch relay (3 phases or 1, and which): smart charging may then use one phase. */
  phaseSwitch?: PartSpec;
  ev?: SimEvOptions;
}

export interface BoardProfile {
  name: string;
  description?: string;
  /** Nominal phase voltage of the installation, for W <-> A in smart charging (default 230). */
  nominalVoltageV?: number;
  evses: EvseProfile[];
  reader?: PartSpec;
  display?: PartSpec;
  emergencyStop?: PartSpec;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasId(v: unknown): v is { id: unknown } & Record<string, unknown> {
  return isPlainObject(v) && 'id' in v;
}

/** Deep merge as described at the top of this file (`over` wins; evses merge by id). */
export function mergeProfile(base: unknown, over: unknown, key?: string): unknown {
  if (over === undefined) return base;
  if (key === 'evses' && Array.isArray(base) && Array.isArray(over)) {
    const out = base.slice();
    for (const o of over) {
      const i = hasId(o) ? out.findIndex((b) => hasId(b) && b.id === o.id) : -1;
      if (i >= 0) out[i] = mergeProfile(out[i], o);
      else out.push(o);
    }
    return out;
  }
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergeProfile(base[k], v, k);
  return out;
}

const EVSE_PARTS = ['pilot', 'contactor', 'lock', 'meter', 'phaseSwitch'] as const;
const BOARD_PARTS = ['reader', 'display', 'emergencyStop'] as const;

/**
 * Checks the board's own shape against hal/profile-schema.ts (and that EVSE ids are unique), not
 * the drivers' options. Throws an OptionError naming each problem's JSON pointer.
 */
export function validateBoardShape(raw: unknown, source = 'board profile'): BoardProfile {
  const problems = boardShapeProblems(raw);
  if (problems.length > 0) throw new OptionError(formatProblems(source, problems), problems, source);
  return raw as BoardProfile;
}

function boardShapeProblems(raw: unknown): SchemaProblem[] {
  const problems = schemaProblems(boardProfileSchema, raw);
  if (problems.length > 0 || !isPlainObject(raw) || !Array.isArray(raw.evses)) return problems;
  const seen = new Set<unknown>();
  raw.evses.forEach((e: { id?: unknown }, i: number) => {
    if (seen.has(e.id)) problems.push({ pointer: `/evses/${i}/id`, problem: `${String(e.id)} is used twice` });
    seen.add(e.id);
  });
  return problems;
}

/**
 * The problems of one part `{ driver, …options }` at `pointer`: an unknown driver, or what the
 * driver's option schema (and its rules) say. The spec is not changed (defaults go to a copy).
 */
export function validatePart(kind: PartKind, spec: unknown, pointer: string): SchemaProblem[] {
  if (!isPlainObject(spec) || typeof spec.driver !== 'string') return [{ pointer, problem: 'must be an object with a "driver"' }];
  const d = lookupDriver(kind, spec.driver);
  if (!d) return [{ pointer: `${pointer}/driver`, problem: unknownDriverProblem(kind, spec.driver) }];
  const { driver: _name, ...options } = spec;
  return optionProblems(d.options, structuredClone(options), d.rules).map((p) => ({ pointer: `${pointer}${p.pointer}`, problem: p.problem }));
}

/**
 * Checks a whole profile: its shape, then every part's driver and options with that driver's schema.
 * Errors name each problem by JSON pointer, e.g.
 * `board profile x.json: /evses/0/pilot/port: is required; /evses/0/phases: must be one of 1,3`.
 */
export function validateBoardProfile(raw: unknown, source = 'board profile'): BoardProfile {
  const problems = boardShapeProblems(raw);
  if (problems.length === 0) {
    const board = raw as BoardProfile;
    board.evses.forEach((e, i) => {
      for (const p of EVSE_PARTS) if (e[p] !== undefined) problems.push(...validatePart(p, e[p], `/evses/${i}/${p}`));
    });
    for (const p of BOARD_PARTS) if (board[p] !== undefined) problems.push(...validatePart(p, board[p], `/${p}`));
  }
  if (problems.length > 0) throw new OptionError(formatProblems(source, problems), problems, source);
  return raw as BoardProfile;
}

/**
 * Reads a board profile: a bare name (`sim`) is looked up as `<repoConfigDir>/boards/NAME.json`,
 * anything with a slash or ending in .json is a file path. Overrides are merged over it, then the
 * result is validated.
 */
export function loadBoardProfile(nameOrPath: string, repoConfigDir: string, overrides?: Record<string, unknown>): BoardProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  if (!isPath && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(nameOrPath)) {
    throw new Error(`board profile name "${nameOrPath}" is not valid (letters, digits, _ . - only)`);
  }
  const file = isPath
    ? isAbsolute(nameOrPath)
      ? nameOrPath
      : resolve(nameOrPath)
    : join(repoConfigDir, 'boards', `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new Error(`board profile "${nameOrPath}" not found (looked for ${file})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`board profile ${file}: ${(err as Error).message}`);
  }
  return validateBoardProfile(mergeProfile(raw, overrides), `board profile ${file}`);
}
