/**
 * Checks for driver options. Board profiles are JSON written by people, so every driver validates
 * what it gets and names the offending key (e.g. "contactor.options.pin: expected an integer").
 * Shared by the GPIO, serial, Modbus and I2C drivers.
 */
export class OptionError extends Error {
  override name = 'OptionError';
}

export type Opts = Record<string, unknown>;

export function asObject(v: unknown, where: string): Opts {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new OptionError(`${where}: expected an object`);
  return v as Opts;
}

export function optObject(o: Opts, key: string, where: string): Opts | undefined {
  const v = o[key];
  return v === undefined ? undefined : asObject(v, `${where}.${key}`);
}

export function str(o: Opts, key: string, where: string, def?: string): string {
  const v = o[key] ?? def;
  if (typeof v !== 'string' || v.length === 0) throw new OptionError(`${where}.${key}: expected a non-empty string`);
  return v;
}

export function optStr(o: Opts, key: string, where: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, where);
}

export interface NumRule {
  def?: number;
  min?: number;
  max?: number;
  int?: boolean;
}

export function num(o: Opts, key: string, where: string, rule: NumRule = {}): number {
  const v = o[key] ?? rule.def;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OptionError(`${where}.${key}: expected a number`);
  if (rule.int && !Number.isInteger(v)) throw new OptionError(`${where}.${key}: expected an integer`);
  if (rule.min !== undefined && v < rule.min) throw new OptionError(`${where}.${key}: must be >= ${rule.min}`);
  if (rule.max !== undefined && v > rule.max) throw new OptionError(`${where}.${key}: must be <= ${rule.max}`);
  return v;
}

export function optNum(o: Opts, key: string, where: string, rule: NumRule = {}): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, where, rule);
}

export function bool(o: Opts, key: string, where: string, def: boolean): boolean {
  const v = o[key] ?? def;
  if (typeof v !== 'boolean') throw new OptionError(`${where}.${key}: expected true or false`);
  return v;
}

export function oneOf<T extends string>(o: Opts, key: string, where: string, values: readonly T[], def?: T): T {
  const v = o[key] ?? def;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw new OptionError(`${where}.${key}: expected one of ${values.join(', ')}`);
  }
  return v as T;
}

/** Reject keys the driver does not know: a typo in a profile must not silently fall back to a default. */
export function onlyKeys(o: Opts, where: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new OptionError(`${where}.${k}: unknown option (known: ${keys.join(', ')})`);
  }
}
