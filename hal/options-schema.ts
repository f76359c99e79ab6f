/**
 * JSON Schema checks of what people write: board profiles and each driver's options. The schemas are
 * the one rule set (hal/profile-schema.ts, hal/<family>/schemas.ts); the profile loader, the drivers
 * and the editor schema config/boards/board.schema.json are all made from them. A problem names the
 * JSON pointer of the value and what is wrong, in the words the station config uses
 * ("must be >= 6", "unknown property \"x\"", "is required").
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** A JSON Schema (draft-07) as a plain object. */
export type JsonSchema = { [key: string]: unknown };

export interface SchemaProblem {
  /** JSON pointer of the value; '' is the whole document. */
  pointer: string;
  problem: string;
}

/** Bad options or a bad profile; `problems` has one entry per fault. */
export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    message: string,
    readonly problems: SchemaProblem[] = [],
    /** What was checked (`board profile x.json`, `pilot options`): the message's prefix. */
    readonly where = '',
  ) {
    super(message);
  }
}

// verbose: errors carry their schema and data, which the anyOf filter below reads.
const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: true, verbose: true });
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function validatorOf(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function branchTakes(branch: unknown, data: unknown): boolean {
  const t = (branch as { type?: unknown }).type;
  const d = typeOf(data);
  const types = Array.isArray(t) ? t : [t];
  return types.includes(d) || (d === 'integer' && types.includes('number'));
}

/**
 * An anyOf of forms of different types (a pin as a number or as {pin, activeLow}): the errors of the
 * form whose type the value has are the ones that explain the problem; the others only say "not a
 * number" about an object. With no form of the value's type, the anyOf error itself is kept.
 */
function focusAnyOf(errors: ErrorObject[]): ErrorObject[] {
  let out = errors;
  for (const e of errors) {
    if (e.keyword !== 'anyOf') continue;
    const branches = e.schema as unknown[];
    const chosen = branches.findIndex((b) => branchTakes(b, e.data));
    const prefix = `${e.schemaPath}/`;
    out = out.filter((x) => {
      if (x === e) return chosen < 0;
      if (!x.schemaPath.startsWith(prefix)) return true;
      return chosen >= 0 && x.schemaPath.startsWith(`${prefix}${chosen}/`);
    });
  }
  return out;
}

/** One ajv error in the station's words. */
export function ajvProblem(e: ErrorObject): SchemaProblem {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      return { pointer: `${e.instancePath}/${escapePointer(name)}`, problem: `unknown property ${JSON.stringify(name)}` };
    }
    case 'required': {
      const name = String(params.missingProperty);
      return { pointer: `${e.instancePath}/${escapePointer(name)}`, problem: 'is required' };
    }
    case 'minLength':
      if (params.limit === 1) return { pointer: e.instancePath, problem: 'must not be empty' };
      return { pointer: e.instancePath, problem: e.message ?? e.keyword };
    case 'enum':
      return { pointer: e.instancePath, problem: `must be one of ${(params.allowedValues as unknown[]).map(show).join(',')}` };
    case 'propertyNames':
      return { pointer: `${e.instancePath}/${escapePointer(String(params.propertyName))}`, problem: 'is not a known name' };
    case 'anyOf': {
      const forms = (e.schema as { type?: unknown }[]).map((b) => String(b.type)).join(' or ');
      return { pointer: e.instancePath, problem: `must be ${forms}` };
    }
    default:
      return { pointer: e.instancePath, problem: e.message ?? e.keyword };
  }
}

/**
 * Validates `value` against `schema`; returns the problems (none: valid). Defaults of the schema are
 * written into `value`: pass a copy when the caller's object must stay as it was.
 */
export function schemaProblems(schema: JsonSchema, value: unknown): SchemaProblem[] {
  const validate = validatorOf(schema);
  if (validate(value)) return [];
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  // propertyNames reports the bad name twice (the name and the propertyNames keyword): once is enough.
  for (const e of focusAnyOf(validate.errors ?? [])) {
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const p = ajvProblem(e);
    const key = `${p.pointer}\0${p.problem}`;
    if (!seen.has(key)) out.push(p);
    seen.add(key);
  }
  return out;
}

export function formatProblems(where: string, problems: SchemaProblem[]): string {
  return `${where}: ${problems.map((p) => `${p.pointer || '/'}: ${p.problem}`).join('; ')}`;
}

/**
 * A driver's options checked by its schema, with the schema's defaults filled in (on a copy). Throws
 * an OptionError naming `where` and each problem's pointer, e.g.
 * `contactor options: /feedback/pin: must be <= 63`.
 */
export function checkOptions<T>(schema: JsonSchema, raw: unknown, where: string, rules?: OptionRules): T {
  const copy: unknown = raw === undefined ? {} : structuredClone(raw);
  const problems = optionProblems(schema, copy, rules);
  if (problems.length > 0) throw new OptionError(formatProblems(where, problems), problems, where);
  return copy as T;
}

/**
 * Rules a schema cannot say (one option against another, exactly one of two keys), run on options
 * the schema accepted, defaults filled in. They sit next to the schema and run wherever it does.
 */
export type OptionRules = (options: Record<string, unknown>) => SchemaProblem[];

/** The schema's problems, then (only when there are none) the rules'. Fills defaults into `value`. */
export function optionProblems(schema: JsonSchema, value: unknown, rules?: OptionRules): SchemaProblem[] {
  const problems = schemaProblems(schema, value);
  if (problems.length > 0 || !rules) return problems;
  return rules(value as Record<string, unknown>);
}
