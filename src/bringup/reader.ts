/**
 * `ocpp-station reader listen --driver line|rdm6300 --port DEVICE [--once]`
 * Prints each card as the station would see it (normalised id and token kind). --once exits after
 * the first card.
 */
import { driverContext } from '../../hal/registry.js';
import type { HalFault, IdReader, TokenRead } from '../../hal/types.js';
import { processIo, runCommand, serialOptions, stderrLog, UsageError, type BringupIo } from './common.js';

const USAGE = `usage: ocpp-station reader listen --driver line|rdm6300 --port DEVICE [--baud N] [--once] [--verbose]`;

const OPTIONS = {
  driver: { type: 'string' },
  port: { type: 'string' },
  baud: { type: 'string' },
  once: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type ClosableReader = IdReader & { close(): Promise<void>; activeFaults: HalFault[] };

export async function main(argv: string[], io: BringupIo = processIo()): Promise<number> {
  return runCommand(argv, io, USAGE, OPTIONS, async (v) => {
    const base = serialOptions(v);
    const deps = driverContext({ clock: io.clock, log: stderrLog(io, v.verbose), part: 'reader', seams: io.deps });
    let reader: ClosableReader;
    if (v.driver === 'line') reader = await (await import('../../hal/serial/reader-line.js')).create(base, deps);
    else if (v.driver === 'rdm6300') reader = await (await import('../../hal/serial/reader-rdm6300.js')).create(base, deps);
    else throw new UsageError('--driver must be line or rdm6300');
    try {
      for (const f of reader.activeFaults) io.err(`fault ${f.kind}: ${f.detail ?? ''}`);
      reader.on('fault', (f) => io.err(`fault ${f.kind}: ${f.detail ?? ''}`));
      reader.on('fault-cleared', (k) => io.err(`fault cleared ${k}`));
      const print = (t: TokenRead): void => io.out(`${t.id} (${t.kind})`);
      if (v.once) {
        if (reader.activeFaults.some((f) => f.kind === 'port-lost')) return 1;
        io.err(`waiting for a card on ${v.port} …`);
        const t = await new Promise<TokenRead>((resolve) => reader.once('token', resolve));
        print(t);
        return 0;
      }
      reader.on('token', print);
      io.err(`listening on ${v.port}; Ctrl-C to stop`);
      await io.stopped();
      return 0;
    } finally {
      await reader.close();
    }
  });
}
