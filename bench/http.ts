/**
 * What the status page server costs an idle station: RSS and event-loop delay (p99) of the station
 * with http off (the anchor), on with no page open, and on with a page open (an event-stream client
 * reading /api/events). Each variant is a fresh process (bench/support/http-child.ts) connected to
 * an in-process CSMS. Goal (issue 15): < 5 MiB and < 1 ms p99 more than off.
 * Single runs differed by up to 17 MiB (one child's heap growth and GC timing), so each variant runs
 * ROUNDS times, interleaved (off, on, page, off, …) so a slow spell of the machine hits all three, and
 * the median of each is reported. BENCH_HTTP_SECONDS (default 3) is the measured time of each child,
 * after WARMUP_S of warm-up; the child reads RSS after forced full collections (--expose-gc).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCsms } from '../devtools/csms.js';

interface Figures {
  rssMiB: number;
  p99Ms: number;
  meanMs: number;
}

const ROUNDS = 3;
const WARMUP_S = 2;
const child = join(dirname(fileURLToPath(import.meta.url)), 'support', 'http-child.js');

async function variant(csmsUrl: string, mode: 'on' | 'off', page: boolean, measureS: number): Promise<Figures> {
  const proc = spawn(process.execPath, ['--expose-gc', child, csmsUrl, mode, String(WARMUP_S), String(measureS)], { stdio: ['ignore', 'pipe', 'inherit'] });
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

function median(runs: Figures[]): Figures {
  const mid = (k: keyof Figures): number => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return { rssMiB: mid('rssMiB'), p99Ms: mid('p99Ms'), meanMs: mid('meanMs') };
}

const mib = (n: number): string => `${n.toFixed(1)} MiB`;
const ms = (n: number): string => `${n.toFixed(2)} ms`;

export default async function httpBench(): Promise<void> {
  const measureS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  try {
    const runs: Record<'off' | 'on' | 'page', Figures[]> = { off: [], on: [], page: [] };
    for (let i = 0; i < ROUNDS; i++) {
      runs.off.push(await variant(csms.url, 'off', false, measureS));
      runs.on.push(await variant(csms.url, 'on', false, measureS));
      runs.page.push(await variant(csms.url, 'on', true, measureS));
    }
    const [off, on, page] = [median(runs.off), median(runs.on), median(runs.page)];
    console.log(
      `idle station, 1 EVSE, CSMS connected; median of ${ROUNDS} interleaved children per variant, ${measureS} s measured after ${WARMUP_S} s warm-up (goal: < +5 MiB RSS, < +1 ms p99)`,
    );
    const list = (k: keyof Figures): string => Object.entries(runs).map(([n, r]) => `${n} ${r.map((f) => f[k].toFixed(1)).join('/')}`).join(', ');
    console.log(`runs, RSS MiB: ${list('rssMiB')}`);
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
