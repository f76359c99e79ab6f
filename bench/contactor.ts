/**
 * Reaction time of the safety rule "open the contactor at once when the EV leaves state C", on the
 * simulated board with 1, 8 and 32 EVSEs charging at once, with the whole daemon wired (station, OCPP
 * 1.6 link to an in-process CSMS, SQLite on disk): the time from the pilot event (the sim EV stops
 * asking for energy, C → B) to the contactor's set(false) command, measured with process.hrtime, and
 * the event-loop delay (perf_hooks) over the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../base/clock.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { startCsms } from '../devtools/csms.js';
import { buildStation, type BuiltStation } from '../src/wiring.js';
import { simProfile, testConfig } from '../test/support/harness.js';

const silent: Logger = silentLogger;
const ROUNDS: Record<number, number> = { 1: 50, 8: 20, 32: 10 };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function until(what: string, fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function measure(evses: number): Promise<void> {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-contactor-'));
  let built: BuiltStation | undefined;
  try {
    const config = testConfig({ ocppVersion: '1.6', csmsUrl: csms.url, configPatch: { ocpp: { v16: { configuration: { MeterValueSampleInterval: '10' } } } } }, stateDir);
    built = await buildStation(config, { clock: new SystemClock(), log: silent, profile: simProfile(evses), control: false });
    const { hal } = built;
    const sim = hal.sim!;
    await until('boot', () => built!.ocpp.link.connected && csms.actions().includes('BootNotification'));

    // Instrument the contactor command: the time of each set(false) while a measurement is armed.
    const pilotAt = new Map<number, bigint>();
    const samples: number[] = [];
    for (const evse of hal.evses) {
      const set = evse.contactor.set.bind(evse.contactor);
      evse.contactor.set = (closed: boolean) => {
        const t0 = pilotAt.get(evse.id);
        if (!closed && t0 !== undefined) {
          samples.push(Number(process.hrtime.bigint() - t0) / 1000);
          pilotAt.delete(evse.id);
        }
        return set(closed);
      };
    }

    for (const evse of hal.evses) {
      sim.plug(evse.id);
      await new Promise((r) => setTimeout(r, 20));
      sim.tap(`04BE0C${evse.id.toString(16).padStart(2, '0').toUpperCase()}`);
      await until(`EVSE ${evse.id} charging`, () => evse.contactor.commanded);
    }

    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const all = (closed: boolean) => () => hal.evses.every((e) => e.contactor.commanded === closed);
    for (let round = 0; round < ROUNDS[evses]!; round++) {
      await until('all contactors closed', all(true));
      await new Promise((r) => setTimeout(r, 50));
      for (const evse of hal.evses) {
        pilotAt.set(evse.id, process.hrtime.bigint());
        sim.evPause(evse.id);
      }
      await until('all contactors open', all(false));
      for (const evse of hal.evses) sim.evReady(evse.id);
    }
    loop.disable();

    const sorted = samples.slice().sort((a, b) => a - b);
    console.log(
      `${String(evses).padStart(2)} EVSE(s) charging: EV leaves C → contactor open: n=${sorted.length} ` +
        `p50=${percentile(sorted, 50).toFixed(0)} µs p99=${percentile(sorted, 99).toFixed(0)} µs max=${sorted.at(-1)!.toFixed(0)} µs; ` +
        `event-loop delay p99=${(loop.percentile(99) / 1e6).toFixed(2)} ms max=${(loop.max / 1e6).toFixed(2)} ms`,
    );
  } finally {
    await built?.stop();
    await csms.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export default async function contactor(): Promise<void> {
  console.log('pilot event (sim EV C → B) to contactor set(false), whole daemon wired, 1.6 CSMS in-process');
  // The event-loop delay is dominated by SQLite's synchronous=FULL commits: compare TMPDIR=/dev/shm.
  console.log(`SQLite state directory under ${tmpdir()} (set TMPDIR to measure another disk)`);
  for (const n of [1, 8, 32]) await measure(n);
}
