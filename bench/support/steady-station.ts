/**
 * The station side of the steady-charging CPU bench: the whole daemon as src/wiring.ts builds it
 * (SystemClock, sim board, OCPP 1.6, SQLite on disk, message log on), N EVSEs charging, MeterValues
 * every second each (MeterValueSampleInterval=1). After a warm-up, prints
 * {"cpuUs": …, "calls": …}: the process CPU time over S seconds and the CALLs it sent in them.
 *   node dist/bench/support/steady-station.js CSMS_URL EVSES S
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../base/clock.js';
import { silentLogger } from '../../base/logger.js';
import { loadBoardProfile, type EvseProfile } from '../../hal/index.js';
import { configFromObject } from '../../src/config/load.js';
import { packageConfigDir } from '../../src/config/paths.js';
import { buildStation } from '../../src/wiring.js';

const [csmsUrl, evsesArg, secondsArg] = process.argv.slice(2);
const evses = Number(evsesArg);
const dir = mkdtempSync(join(tmpdir(), 'bench-steady-'));
const config = configFromObject({
  station: { identity: 'BENCH-STEADY', vendor: 'ocpp-station', model: 'sim-2', serialNumber: 'SIM-0001' },
  ocpp: { version: '1.6', csmsUrl, messageLog: { enabled: true }, v16: { configuration: { MeterValueSampleInterval: '1' } } },
  hal: { board: 'sim' },
  stateDir: dir,
  log: { level: 'warn' },
  http: { enabled: false },
});
const base = loadBoardProfile('sim', packageConfigDir());
const first = base.evses[0]!;
const profile = { ...base, evses: Array.from({ length: evses }, (_, i) => ({ ...(JSON.parse(JSON.stringify(first)) as EvseProfile), id: i + 1 })) };
const built = await buildStation(config, { clock: new SystemClock(), log: silentLogger, profile, control: false });

const until = async (what: string, fn: () => boolean): Promise<void> => {
  const end = Date.now() + 30_000;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`steady-station: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
await until('connected', () => built.ocpp.link.connected);
const sim = built.hal.sim!;
for (const evse of built.hal.evses) {
  sim.plug(evse.id);
  await new Promise((r) => setTimeout(r, 20));
  sim.tap(`04BE0C${evse.id.toString(16).padStart(2, '0').toUpperCase()}`);
  await until(`EVSE ${evse.id} charging`, () => evse.contactor.commanded);
}
let calls = 0;
built.ocpp.link.onFrame((d, text) => {
  if (d === 'out' && text.startsWith('[2,')) calls++;
});
await new Promise((r) => setTimeout(r, 3000)); // warm-up: the first samples, JIT
const c0 = calls;
const cpu0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, Number(secondsArg) * 1000));
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ cpuUs: cpu.user + cpu.system, calls: calls - c0 }) + '\n');
await built.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
