/**
 * `ocpp-station pilot monitor --driver rapi|line --port DEVICE [--once] [--current A]`
 * Connects to the pilot board with the station's driver and prints its state, PP rating and faults
 * (with --once: the state after start-up, then exit). --current offers a PWM current while
 * monitoring (to see an EV go B → C); the board is put back to "no PWM" on exit.
 */
import type { HalFault, PilotController } from '../../hal/types.js';
import { driverContext } from '../../hal/registry.js';
import { intArg, processIo, runCommand, serialOptions, stderrLog, UsageError, type BringupIo } from './common.js';

const USAGE = `usage: ocpp-station pilot monitor --driver rapi|line --port DEVICE [--baud N] [--once] [--current A] [--verbose]`;

const OPTIONS = {
  driver: { type: 'string' },
  port: { type: 'string' },
  baud: { type: 'string' },
  once: { type: 'boolean', default: false },
  current: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type ClosablePilot = PilotController & { close(): Promise<void>; activeFaults: HalFault[] };

export async function main(argv: string[], io: BringupIo = processIo()): Promise<number> {
  return runCommand(argv, io, USAGE, OPTIONS, async (v) => {
    const base = serialOptions(v);
    const deps = driverContext({ clock: io.clock, log: stderrLog(io, v.verbose), part: 'pilot', seams: io.deps });
    let pilot: ClosablePilot;
    if (v.driver === 'line') pilot = await (await import('../../hal/serial/pilot-line.js')).create(base, deps);
    else if (v.driver === 'rapi') pilot = await (await import('../../hal/serial/pilot-rapi.js')).create(base, deps);
    else throw new UsageError('--driver must be rapi or line');
    const show = (): void => io.out(`state ${pilot.state}  pp ${pilot.ppAmps === null ? '-' : `${pilot.ppAmps} A`}  pwm ${pilot.maxCurrent} A`);
    try {
      for (const f of pilot.activeFaults) io.out(`fault ${f.kind} (${f.severity}) ${f.detail ?? ''}`);
      if (v.once) {
        show();
        return pilot.activeFaults.length > 0 ? 1 : 0;
      }
      pilot.on('state', show);
      pilot.on('pp', show);
      pilot.on('fault', (f) => io.out(`fault ${f.kind} (${f.severity}) ${f.detail ?? ''}`));
      pilot.on('fault-cleared', (k) => io.out(`fault cleared ${k}`));
      if (v.current) await pilot.setMaxCurrent(intArg(v.current, 'current'));
      show();
      await io.stopped();
      return 0;
    } finally {
      await pilot.close();
    }
  });
}
