/**
 * Reading the config: file → shape version brought up to date (version.ts) → command-line overrides
 * → defaults underneath → validation. Relative
 * paths in the result are made absolute (against the working directory) so that nothing later depends
 * on where the process was started.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LogLevel, OcppVersionChoice, StationConfig } from './types.js';
import { mergeDeep, withDefaults } from './defaults.js';
import { packageConfigDir } from './paths.js';
import { type ConfigProblem, formatProblem, validateConfig } from './validate.js';
import { migrateConfig } from './version.js';

/** Values given on the command line; each wins over the file and the defaults. */
export interface ConfigOverrides {
  csmsUrl?: string;
  identity?: string;
  ocppVersion?: OcppVersionChoice;
  stateDir?: string;
  board?: string;
  logLevel?: LogLevel;
  httpPort?: number;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

/** config/station.json of the package if present, else the example next to it. */
export function defaultConfigPath(): string {
  const own = join(packageConfigDir(), 'station.json');
  return existsSync(own) ? own : join(packageConfigDir(), 'station.example.json');
}

function overridesAsPatch(o: ConfigOverrides): Record<string, unknown> {
  const patch: Record<string, Record<string, unknown> | string> = {};
  const section = (name: string): Record<string, unknown> => (patch[name] ??= {}) as Record<string, unknown>;
  if (o.csmsUrl !== undefined) section('ocpp').csmsUrl = o.csmsUrl;
  if (o.ocppVersion !== undefined) section('ocpp').version = o.ocppVersion;
  if (o.identity !== undefined) section('station').identity = o.identity;
  if (o.board !== undefined) section('hal').board = o.board;
  if (o.logLevel !== undefined) section('log').level = o.logLevel;
  if (o.httpPort !== undefined) section('http').port = o.httpPort;
  if (o.stateDir !== undefined) patch.stateDir = o.stateDir;
  return patch;
}

function absolutePaths(c: StationConfig): StationConfig {
  const ocpp = { ...c.ocpp };
  for (const key of ['caFile', 'clientCertFile', 'clientKeyFile'] as const) {
    const v = ocpp[key];
    if (v !== undefined) ocpp[key] = resolve(v);
  }
  // "$schema" only serves editors.
  const { $schema: _editorHint, ...rest } = c as StationConfig & { $schema?: string };
  return { ...rest, ocpp, stateDir: resolve(c.stateDir) };
}

/**
 * Migrate, merge and validate an already parsed document (what check-config, loadConfig and tests
 * share). `notes` receives what the version step did (a file without "version", a migration).
 */
export function configFromObject(raw: unknown, overrides: ConfigOverrides = {}, file = '<object>', notes?: string[]): StationConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ pointer: '', problem: 'must be an object' }]);
  }
  const migrated = migrateConfig(raw as Record<string, unknown>);
  if (!migrated.ok) throw new ConfigError(file, migrated.problems);
  notes?.push(...migrated.notes);
  const merged = withDefaults(mergeDeep(migrated.doc, overridesAsPatch(overrides)));
  const result = validateConfig(merged);
  if (!result.ok) throw new ConfigError(file, result.problems);
  return absolutePaths(result.config);
}

/** Read, migrate, merge and validate. Throws ConfigError listing every problem. */
export function loadConfig(path: string = defaultConfigPath(), overrides: ConfigOverrides = {}, notes?: string[]): StationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ pointer: '', problem: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, [{ pointer: '', problem: `${path} is not valid JSON: ${(err as Error).message}` }]);
  }
  return configFromObject(raw, overrides, path, notes);
}
