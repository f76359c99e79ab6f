/**
 * The station against its anchor, measured in the same run (issue 14): a bare ocpp-rpc client (strict
 * mode, one call in flight, the same 1.6 MeterValues) talking to the same strict CSMS, which runs in
 * its own process (./support/csms-child.ts) so its work is counted for neither side.
 * - outbox drain after reconnect: N MeterValues queued durably, message log on, from start() to the
 *   last delete; the anchor sends the same N one after the other from connect to the last answer;
 * - CPU per call in steady charging: the whole daemon with 10 EVSEs charging, MeterValues every second
 *   each (./support/steady-station.ts), against the bare client sending 10 MeterValues a second from
 *   10 timers (./support/bare-client.ts); process CPU time / CALLs sent, each in its own process;
 * - start → BootNotification on the wire: `ocpp-station run` spawned until the CSMS reads its
 *   BootNotification, against a node process that loads ocpp-rpc, connects and sends one.
 * Figures only, no pass/fail: each line shows the figure, the anchor, the ratio and the goal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../base/clock.js';
import { silentLogger } from '../base/logger.js';
import { benchLinkConfig } from './support/link-config.js';
import { createLink } from '../src/ocpp/rpc-link.js';
import { openDatabase } from '../src/store/db.js';
import { anchored, median, meterValues, startCsmsChild, supportDir, type CsmsChild } from './support/anchor.js';
import { drain as bareDrain } from './support/bare-client.js';

const DRAIN = 5_000;
const STEADY_EVSES = 10;
const STEADY_S = 10;
const STARTS = 5;


async function until(fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Seconds from start() to the last message of a backlog of `count` deleted. */
async function stationDrain(csms: CsmsChild, count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-anchored-'));
  const db = openDatabase(join(dir, 'station.db'));
  const link = createLink({ ocpp: benchLinkConfig(csms.url), identity: 'STATION-DRAIN', stateDir: dir }, { db, clock: new SystemClock(), log: silentLogger });
  try {
    db.transaction(() => {
      for (let i = 0; i < count; i++) link.enqueue('MeterValues', meterValues(1, 1, i), { txKey: 'bench-tx' });
    })();
    link.setReady(true);
    const t0 = process.hrtime.bigint();
    await link.start();
    await until(() => link.pendingCount() === 0, 600_000);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await link.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

async function cpuPerCall(args: string[]): Promise<number> {
  const out = await child(args);
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { cpuUs: number; calls: number };
  return r.cpuUs / 1000 / Math.max(1, r.calls);
}

/** Milliseconds from spawn to the CSMS reading the BootNotification; the process is then stopped. */
async function startToBoot(csms: CsmsChild, args: string[]): Promise<number> {
  const booted = csms.nextBoot();
  const t0 = process.hrtime.bigint();
  const p = spawn(process.execPath, args, {
    stdio: 'ignore',
    env: { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' },
  });
  const exited = new Promise<void>((r) => p.on('exit', () => r()));
  const at = await booted;
  if (p.exitCode === null) p.kill('SIGTERM');
  await exited;
  return Number(at - t0) / 1e6;
}

export default async function run(): Promise<void> {
  const csms = await startCsmsChild();
  const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
  try {
    // 1. Drain (the bare client first, then the station; both warm the CSMS the same way).
    await bareDrain(csms.url, 500);
    const bareS = await bareDrain(csms.url, DRAIN);
    csms.forget();
    const stationS = await stationDrain(csms, DRAIN);
    csms.forget();
    console.log(anchored(`outbox drain after reconnect (${DRAIN} MeterValues)`, DRAIN / stationS, DRAIN / bareS, 'msg/s', 'ratio ≥ 0.9, message log on', 0));

    // 2. CPU per call, each side in its own process.
    const bareCpu = await cpuPerCall([join(supportDir, 'bare-client.js'), 'steady', csms.url, String(STEADY_EVSES), String(STEADY_S)]);
    csms.forget();
    const stationCpu = await cpuPerCall([join(supportDir, 'steady-station.js'), csms.url, String(STEADY_EVSES), String(STEADY_S)]);
    csms.forget();
    console.log(anchored(`CPU per call, ${STEADY_EVSES} EVSEs charging, MeterValues/1 s`, stationCpu, bareCpu, 'ms', 'ratio ≤ 1.3', 3));

    // 3. Start → BootNotification, alternating, median of STARTS each (the first start of the station
    //    creates its database: a warm-up, not counted).
    const cli = join(supportDir, '..', '..', 'src', 'cli.js');
    const config = join(dir, 'station.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        station: { identity: 'BENCH-START', vendor: 'ocpp-station', model: 'sim-2', serialNumber: 'SIM-0001' },
        ocpp: { version: '1.6', csmsUrl: csms.url, securityProfile: 0 },
        hal: { board: 'sim' },
        stateDir: join(dir, 'state'),
        log: { level: 'warn' },
        http: { enabled: false },
      }),
    );
    const stationArgs = [cli, 'run', '--config', config];
    const bareArgs = [join(supportDir, 'bare-client.js'), 'boot', csms.url];
    await startToBoot(csms, stationArgs);
    await startToBoot(csms, bareArgs);
    const station: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      bare.push(await startToBoot(csms, bareArgs));
      station.push(await startToBoot(csms, stationArgs));
    }
    console.log(anchored(`start → BootNotification (median of ${STARTS})`, median(station), median(bare), 'ms', 'ratio ≤ 1.1', 0));
  } finally {
    await csms.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
