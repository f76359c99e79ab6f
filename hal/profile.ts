/**
 * Board profiles: which driver runs each part of the station, and with what options. A profile is
 * pure data in config/boards/NAME.json; swapping a board is a config change, not a code change.
 *
 * Format (config/boards/board.schema.json holds the same rules for editors):
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
 * Unknown keys are refused (a misspelt part would otherwise be silently missing).
 *
 * Overrides (config hal.overrides) are merged deeply over the profile: objects merge key by key,
 * the "evses" array merges element by element matched on "id" (an unknown id adds an EVSE), any
 * other array or scalar is replaced.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

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

const EVSE_PARTS = ['pilot', 'contactor', 'meter'] as const;
const OPTIONAL_EVSE_PARTS = ['lock', 'phaseSwitch'] as const;
const BOARD_PARTS = ['reader', 'display', 'emergencyStop'] as const;
const EV_KEYS = ['maxCurrentA', 'phases', 'batteryKWh', 'startSocPercent', 'voltage', 'cableAmps', 'readyOnPlug', 'ventilation'];

/**
 * Checks the shape of a profile and returns it typed. Errors name the offending place, e.g.
 * `board profile "x": evses[0].pilot.driver must be a non-empty string`.
 */
export function validateBoardProfile(raw: unknown, source = 'board profile'): BoardProfile {
  const problems: string[] = [];
  const part = (v: unknown, where: string): void => {
    if (!isPlainObject(v)) problems.push(`${where} must be an object with a "driver"`);
    else if (typeof v.driver !== 'string' || v.driver === '') problems.push(`${where}.driver must be a non-empty string`);
  };
  if (!isPlainObject(raw)) throw new Error(`${source}: must be a JSON object`);
  // A misspelt part ("lok") must not silently build a station without it.
  const known = (o: Record<string, unknown>, keys: readonly string[], where: string): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${where}${k} is not a known key (known: ${keys.join(', ')})`);
  };
  known(raw, ['$schema', 'name', 'description', 'nominalVoltageV', 'evses', ...BOARD_PARTS], '');
  if (raw.nominalVoltageV !== undefined && !(typeof raw.nominalVoltageV === 'number' && raw.nominalVoltageV >= 50 && raw.nominalVoltageV <= 500)) {
    problems.push('nominalVoltageV must be a number in [50, 500]');
  }
  if (typeof raw.name !== 'string' || raw.name === '') problems.push('name must be a non-empty string');
  if (!Array.isArray(raw.evses) || raw.evses.length === 0) {
    problems.push('evses must be a non-empty array');
  } else {
    const seen = new Set<unknown>();
    raw.evses.forEach((e: unknown, i: number) => {
      const at = `evses[${i}]`;
      if (!isPlainObject(e)) {
        problems.push(`${at} must be an object`);
        return;
      }
      if (!Number.isInteger(e.id) || (e.id as number) < 1) problems.push(`${at}.id must be an integer ≥ 1`);
      else if (seen.has(e.id)) problems.push(`${at}.id ${String(e.id)} is used twice`);
      seen.add(e.id);
      if (typeof e.maxCurrentA !== 'number' || !(e.maxCurrentA > 0)) problems.push(`${at}.maxCurrentA must be a number > 0`);
      if (e.phases !== 1 && e.phases !== 3) problems.push(`${at}.phases must be 1 or 3`);
      if (typeof e.connectorType !== 'string' || e.connectorType === '') problems.push(`${at}.connectorType must be a non-empty string`);
      for (const p of EVSE_PARTS) part(e[p], `${at}.${p}`);
      for (const p of OPTIONAL_EVSE_PARTS) if (e[p] !== undefined) part(e[p], `${at}.${p}`);
      known(e, ['id', 'maxCurrentA', 'phases', 'connectorType', ...EVSE_PARTS, ...OPTIONAL_EVSE_PARTS, 'ev'], `${at}.`);
      if (e.ev !== undefined && !isPlainObject(e.ev)) problems.push(`${at}.ev must be an object`);
      else if (e.ev !== undefined) known(e.ev, EV_KEYS, `${at}.ev.`);
    });
  }
  for (const p of BOARD_PARTS) if (raw[p] !== undefined) part(raw[p], p);
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  return raw as unknown as BoardProfile;
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
