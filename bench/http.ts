/**
 * What the status page server costs an idle station: RSS and event-loop delay (p99) of the station
 * with http off (the anchor), on with no page open, and on with a page open (an event-stream client
 * reading /api/events). Each variant is a fresh process (bench/support/http-child.ts) connected to
 * an in-process CSMS. Goal (issue 15): < 5 MiB and < 1 ms p99 more than off.
 * BENCH_HTTP_SECONDS (default 8) is the measured time of each variant, after 4 s of warm-up.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCsms } from '../src/devtools/csms.js';

interface Figures {
  rssMiB: number;
  p99Ms: number;
  meanMs: number;
}

const child = join(dirname(fileURLToPath(import.meta.url)), 'support', 'http-child.js');

async function variant(csmsUrl: string, mode: 'on' | 'off', page: boolean, measureS: number): Promise<Figures> {
  const proc = spawn(process.execPath, ['--expose-gc', child, csmsUrl, mode, '4', String(measureS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let reader: AbortController | undefined;
  const done = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        lines.push(line);
        if (lines.length === 1 && page && typeof line.url === 'string') {
          reader = new AbortController();
          const signal = reader.signal;
          void fetch(new URL('/api/events', line.url), { signal })
            .then(async (res) => {
              for await (const _chunk of res.body!) {
                // read and drop, as a browser tab would render it
              }
            })
            .catch(() => undefined);
        }
      }
    });
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench child exited ${code}`))));
  });
  await done;
  reader?.abort();
  return lines[1] as unknown as Figures;
}

const mib = (n: number): string => `${n.toFixed(1)} MiB`;
const ms = (n: number): string => `${n.toFixed(2)} ms`;

export default async function httpBench(): Promise<void> {
  const measureS = Number(process.env.BENCH_HTTP_SECONDS ?? 8);
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  try {
    const off = await variant(csms.url, 'off', false, measureS);
    const on = await variant(csms.url, 'on', false, measureS);
    const page = await variant(csms.url, 'on', true, measureS);
    console.log(`idle station, 1 EVSE, CSMS connected, ${measureS} s measured after 4 s warm-up (goal: < +5 MiB RSS, < +1 ms p99)`);
    console.log(`http off (anchor):       RSS ${mib(off.rssMiB)}, event-loop delay p99 ${ms(off.p99Ms)} (mean ${ms(off.meanMs)})`);
    for (const [name, f] of [['http on, no page:', on], ['http on, page open:', page]] as const) {
      console.log(
        `${name.padEnd(24)} RSS ${mib(f.rssMiB)} vs ${mib(off.rssMiB)} (${f.rssMiB - off.rssMiB >= 0 ? '+' : ''}${mib(f.rssMiB - off.rssMiB)}, ×${(f.rssMiB / off.rssMiB).toFixed(2)}), ` +
          `p99 ${ms(f.p99Ms)} vs ${ms(off.p99Ms)} (${f.p99Ms - off.p99Ms >= 0 ? '+' : ''}${ms(f.p99Ms - off.p99Ms)}, ×${(f.p99Ms / off.p99Ms).toFixed(2)})`,
      );
    }
  } finally {
    await csms.close();
  }
}
