/**
 * `npm run demo`: the whole station working, with one command. Starts the in-process CSMS (the one
 * the tests use, strict schema validation both ways) on 127.0.0.1, starts the daemon as its own
 * process on the simulated board, plays a scripted session (plug, tap, charge, unplug) and prints
 * every OCPP message the CSMS saw.
 *
 *   npm run demo                          # OCPP 1.6
 *   npm run demo -- --ocpp-version 2.0.1  # OCPP 2.0.1
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startCsms, type CsmsLogEntry } from './csms.js';
import { formatCsmsEntry } from './format.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

function usage(): never {
  console.error('usage: npm run demo -- [--ocpp-version 1.6|2.0.1] [--charge-seconds N] [--keep]');
  process.exit(2);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        'ocpp-version': { type: 'string', default: '1.6' },
        'charge-seconds': { type: 'string', default: '12' },
        keep: { type: 'boolean', default: false },
      },
    }).values;
  } catch {
    usage();
  }
  const version = args['ocpp-version'];
  if (version !== '1.6' && version !== '2.0.1') usage();
  const chargeS = Number(args['charge-seconds']);
  if (!Number.isFinite(chargeS) || chargeS < 1) usage();

  const csms = await startCsms({ protocols: [version === '1.6' ? 'ocpp1.6' : 'ocpp2.0.1'] });
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-station-demo-'));
  const example = JSON.parse(readFileSync(join(repo, 'config', 'station.example.json'), 'utf8')) as Record<string, unknown>;
  delete example.$schema;
  const config = {
    ...example,
    station: { ...(example.station as object), identity: 'DEMO1' },
    ocpp: {
      ...(example.ocpp as object),
      version,
      csmsUrl: csms.url,
      v16: { configuration: { MeterValueSampleInterval: '5', MeterValuesSampledData: 'Energy.Active.Import.Register,Power.Active.Import' } },
      v201: { variables: { 'SampledDataCtrlr.TxUpdatedInterval': '5' } },
    },
    stateDir: join(dir, 'state'),
    scenarios: {
      demo: [
        { afterS: 2, action: 'plug', evse: 1 },
        { afterS: 1, action: 'tap', idToken: '04A1B2C3D4E5F6' },
        { afterS: chargeS, action: 'ev-pause', evse: 1 },
        { afterS: 1, action: 'unplug', evse: 1 },
      ],
    },
    runScenario: 'demo',
  };
  const configPath = join(dir, 'station.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  console.log(`CSMS (in-process, strict OCPP ${version} schemas) listening on ${csms.url}`);
  console.log(`daemon on the simulated board; its log: ${join(dir, 'daemon.log')}`);
  console.log('scenario: plug EVSE 1, tap card 04A1B2C3D4E5F6, charge, EV stops, unplug\n');

  const daemonLog = createWriteStream(join(dir, 'daemon.log'));
  const daemon = spawn(process.execPath, [join(repo, 'dist', 'src', 'cli.js'), 'run', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.stdout.pipe(daemonLog);
  daemon.stderr.pipe(daemonLog);
  let exited = false;
  daemon.on('exit', () => (exited = true));

  const t0 = Date.now();
  let printed = 0;
  const flush = (): void => {
    while (printed < csms.log.length) console.log(formatCsmsEntry(csms.log[printed++]!, t0));
  };
  const ended = (e: CsmsLogEntry): boolean =>
    e.direction === 'in' &&
    e.type === 'call' &&
    (e.action === 'StopTransaction' ||
      (e.action === 'TransactionEvent' && (e.payload as { eventType?: string }).eventType === 'Ended'));
  const deadline = t0 + (chargeS + 40) * 1000;
  let endSeenAt: number | undefined;
  while (!exited && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    flush();
    if (endSeenAt === undefined && csms.log.some(ended)) endSeenAt = Date.now();
    // Give the station a moment after the transaction ended to report its connector free again.
    if (endSeenAt !== undefined && Date.now() - endSeenAt > 2500) break;
  }
  daemon.kill('SIGTERM');
  await new Promise<void>((resolve) => (exited ? resolve() : daemon.once('exit', () => resolve())));
  flush();
  await csms.close();
  daemonLog.end();

  const calls = csms.log.filter((e) => e.direction === 'in' && e.type === 'call').length;
  const errors = csms.log.filter((e) => e.type === 'error').length;
  console.log(`\n${calls} calls from the station, ${errors} CALLERRORs; every frame was validated against the OCPP ${version} schemas.`);
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`state kept in ${dir}`);
  if (endSeenAt === undefined) {
    console.error('the session did not end within the time allowed: see the daemon log (run with --keep)');
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
