/**
 * Validation of the merged config: the JSON Schema (config/station.schema.json, ajv with allErrors)
 * and the rules a schema cannot say (security profile needs, files that must exist). Every problem
 * is reported with the JSON pointer of the offending value.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StationConfig } from './types.js';
import cron from 'node-cron';
import { packageConfigDir } from './paths.js';

export interface ConfigProblem {
  /** JSON pointer of the value; '' is the whole document. */
  pointer: string;
  problem: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `config error: ${p.pointer || '/'}: ${p.problem}`;
}

// ajv-formats is CommonJS: under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as { default: FormatsPlugin };

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const schema = JSON.parse(readFileSync(join(packageConfigDir(), 'station.schema.json'), 'utf8')) as object;
    compiled = ajv.compile(schema);
  }
  return compiled;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function fromAjv(e: ErrorObject): ConfigProblem {
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
    case 'enum':
      return { pointer: e.instancePath, problem: `must be one of ${(params.allowedValues as unknown[]).map(show).join(',')}` };
    default:
      return { pointer: e.instancePath, problem: e.message ?? e.keyword };
  }
}

function readable(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

/** Why a database.maintenanceSchedule is refused (node-cron's own check), or undefined. */
export function scheduleProblem(expression: string): string | undefined {
  if (expression === '') return undefined;
  const v = cron.validateDetailed(expression);
  if (v.valid) return undefined;
  const why = v.errors.map((e) => e.message).join('; ');
  return `not a cron expression (minute hour day-of-month month day-of-week)${why ? `: ${why}` : ''}`;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Rules across fields: what each OCPP security profile needs, and that named things exist. */
function semanticProblems(c: StationConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const o = c.ocpp;
  const sp = o.securityProfile;
  if (!/^wss?:\/\//.test(o.csmsUrl)) {
    out.push({ pointer: '/ocpp/csmsUrl', problem: 'must start with ws:// or wss://' });
  } else if ((sp === 2 || sp === 3) && !o.csmsUrl.startsWith('wss://')) {
    out.push({ pointer: '/ocpp/csmsUrl', problem: `security profile ${sp} needs a wss:// URL` });
  } else if ((sp === 0 || sp === 1) && o.csmsUrl.startsWith('wss://')) {
    out.push({ pointer: '/ocpp/securityProfile', problem: 'a wss:// URL needs security profile 2 or 3' });
  }
  if ((sp === 1 || sp === 2) && !o.password) {
    out.push({ pointer: '/ocpp/password', problem: `security profile ${sp} needs a password` });
  }
  if (sp === 3) {
    for (const key of ['clientCertFile', 'clientKeyFile'] as const) {
      const file = o[key];
      if (!file) out.push({ pointer: `/ocpp/${key}`, problem: 'security profile 3 needs a client certificate and key' });
      else {
        const why = readable(file);
        if (why) out.push({ pointer: `/ocpp/${key}`, problem: why });
      }
    }
  }
  if (o.caFile) {
    const why = readable(o.caFile);
    if (why) out.push({ pointer: '/ocpp/caFile', problem: why });
  }
  if (o.reconnect.maxDelayS < o.reconnect.minDelayS) {
    out.push({ pointer: '/ocpp/reconnect/maxDelayS', problem: 'must be >= minDelayS' });
  }
  if (c.site && c.site.meterFaultAvailableA > c.site.gridLimitA) {
    out.push({ pointer: '/site/meterFaultAvailableA', problem: `must be <= gridLimitA (${c.site.gridLimitA})` });
  }
  if (c.http?.enabled && !c.http.token) {
    if (!isLoopbackHost(c.http.host)) {
      out.push({ pointer: '/http/token', problem: `listening on ${c.http.host} (not loopback) needs a token` });
    } else if (c.http.control) {
      out.push({ pointer: '/http/token', problem: 'http.control needs a token' });
    }
  }
  const schedule = c.database ? scheduleProblem(c.database.maintenanceSchedule) : undefined;
  if (schedule) out.push({ pointer: '/database/maintenanceSchedule', problem: schedule });
  if (c.runScenario !== undefined && !(c.runScenario in c.scenarios)) {
    out.push({ pointer: '/runScenario', problem: `no scenario named ${JSON.stringify(c.runScenario)} in /scenarios` });
  }
  return out;
}

export type Validated = { ok: true; config: StationConfig } | { ok: false; problems: ConfigProblem[] };

/** Validate a config that already has its defaults merged in. */
export function validateConfig(merged: unknown): Validated {
  const validate = validator();
  if (!validate(merged)) {
    return { ok: false, problems: (validate.errors ?? []).map(fromAjv) };
  }
  const config = merged as StationConfig;
  const problems = semanticProblems(config);
  return problems.length ? { ok: false, problems } : { ok: true, config };
}
