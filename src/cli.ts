#!/usr/bin/env node
/**
 * The `ocpp-station` command. `run` (the default) is the daemon; the other commands drive the
 * simulated board or check real hardware during bring-up. Their modules are loaded only when asked
 * for, so a missing or broken one cannot keep the daemon from starting, and says so clearly.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ConfigOverrides } from './config/load.js';
import type { LogLevel, OcppVersionChoice } from './config/types.js';
import { packageVersion } from './config/paths.js';

const USAGE = `Usage: ocpp-station [command] [options]

Commands:
  run [options]            run the station daemon (the default command)
  check-config PATH        validate a config file without starting anything (exit 0 OK, 2 errors)
  sim <command> …          drive the simulated board of a running daemon (see: ocpp-station sim --help)
  outbox <command> …       list, show, replay or drop dead letters of the OCPP outbox (see: ocpp-station outbox --help)
  meter read …             read an energy meter (bring-up)
  pilot monitor …          watch the control-pilot board (bring-up)
  reader listen …          print id tokens from a card reader (bring-up)
  relay toggle …           switch a relay / contactor (bring-up)

Options of run:
  --config PATH            config file (default: config/station.json, else config/station.example.json)
  --csms-url URL           override ocpp.csmsUrl
  --identity ID            override station.identity
  --ocpp-version V         override ocpp.version: 1.6, 2.0.1 or auto
  --state-dir DIR          override stateDir
  --board NAME|PATH        override hal.board
  --log-level LEVEL        override log.level: error, warn, info or debug
  --http-port PORT         override http.port (0: any free port)
  --dev-csms               run the development CSMS in this process and connect to it (first run,
                           demos; never for a real site): the status page gets the sim controls
  -h, --help               this text
  -v, --version            the version
`;

/** Commands handled by another module's `main(argv)`: name → [verb or undefined, module]. */
const DELEGATED: Record<string, [verb: string | undefined, module: string]> = {
  sim: [undefined, './control/sim-cli.js'],
  outbox: [undefined, './outbox-cli.js'],
  meter: ['read', './bringup/meter.js'],
  pilot: ['monitor', './bringup/pilot.js'],
  reader: ['listen', './bringup/reader.js'],
  relay: ['toggle', './bringup/relay.js'],
};

interface CommandModule {
  main(argv: string[]): Promise<number | void> | number | void;
}

class UsageError extends Error {}

async function delegate(command: string, args: string[]): Promise<number> {
  const [verb, spec] = DELEGATED[command]!;
  let rest = args;
  if (verb !== undefined) {
    const help = args[0] === '--help' || args[0] === '-h';
    if (args[0] !== verb && !help) throw new UsageError(`usage: ocpp-station ${command} ${verb} [options]`);
    if (!help) rest = args.slice(1);
  }
  let mod: CommandModule;
  try {
    mod = (await import(spec)) as CommandModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(spec.slice(2))) {
      process.stderr.write(`ocpp-station: the '${command}' command is not part of this build (${spec} is missing)\n`);
      return 1;
    }
    throw err;
  }
  const code = await mod.main(rest);
  return typeof code === 'number' ? code : 0;
}

const RUN_OPTIONS = {
  config: { type: 'string' },
  'csms-url': { type: 'string' },
  identity: { type: 'string' },
  'ocpp-version': { type: 'string' },
  'state-dir': { type: 'string' },
  board: { type: 'string' },
  'log-level': { type: 'string' },
  'http-port': { type: 'string' },
  'dev-csms': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** Options of `run` (and `check-config`) → config path and overrides. Values are checked by the config schema. */
export function parseRunArgs(args: string[]): {
  configPath?: string;
  overrides: ConfigOverrides;
  help: boolean;
  version: boolean;
  devCsms: boolean;
  positionals: string[];
} {
  let parsed;
  try {
    parsed = parseArgs({ args, options: RUN_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const overrides: ConfigOverrides = {};
  if (v['csms-url'] !== undefined) overrides.csmsUrl = v['csms-url'];
  if (v.identity !== undefined) overrides.identity = v.identity;
  if (v['ocpp-version'] !== undefined) overrides.ocppVersion = v['ocpp-version'] as OcppVersionChoice;
  if (v['state-dir'] !== undefined) overrides.stateDir = v['state-dir'];
  if (v.board !== undefined) overrides.board = v.board;
  if (v['log-level'] !== undefined) overrides.logLevel = v['log-level'] as LogLevel;
  if (v['http-port'] !== undefined) {
    // A number for the schema to check (range); text that is no number at all is a usage error.
    if (!/^\d+$/.test(v['http-port'])) throw new UsageError(`--http-port: not a port number: ${v['http-port']}`);
    overrides.httpPort = Number(v['http-port']);
  }
  return {
    configPath: v.config,
    overrides,
    help: v.help === true,
    version: v.version === true,
    devCsms: v['dev-csms'] === true,
    positionals: parsed.positionals,
  };
}

/** The Node.js this daemon runs on (package.json engines); undefined when it is fine. */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= 20) return undefined;
  return `ocpp-station needs Node.js 20 or newer; this is Node.js ${version.replace(/^v?/, '')}; see the README for where to get it`;
}

export async function cli(argv: string[]): Promise<number> {
  const tooOld = nodeVersionProblem(process.versions.node);
  if (tooOld) {
    process.stderr.write(`${tooOld}\n`);
    return 2;
  }
  const [first, ...rest] = argv;
  if (first !== undefined && first in DELEGATED) return delegate(first, rest);

  const command = first === undefined || first.startsWith('-') ? 'run' : first;
  const args = command === first ? rest : argv;
  const opts = parseRunArgs(args);
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  switch (command) {
    case 'run': {
      if (opts.positionals.length) throw new UsageError(`unexpected argument ${opts.positionals[0]}`);
      const { runDaemon } = await import('./main.js');
      return runDaemon({ configPath: opts.configPath, overrides: opts.overrides, devCsms: opts.devCsms });
    }
    case 'check-config': {
      const path = opts.positionals[0] ?? opts.configPath;
      if (!path || opts.positionals.length > 1) throw new UsageError('usage: ocpp-station check-config PATH');
      const { loadConfigOrReport } = await import('./main.js');
      const loaded = loadConfigOrReport(path, opts.overrides);
      if (!loaded) return 2;
      for (const note of loaded.notes) process.stdout.write(`note: ${note}\n`);
      process.stdout.write(`OK ${path}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function isProgram(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// Run only as the program (also through the npm bin symlink), not when imported by tests.
if (isProgram()) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`ocpp-station: ${err.message}\n\n${USAGE}`);
        process.exit(64);
      }
      process.stderr.write(`ocpp-station: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
