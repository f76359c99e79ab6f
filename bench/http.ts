/**
 * What the status page server costs an idle station: RSS and event-loop delay (p99) of the station
 * with http off (the anchor), on with no page open, on with a page open (an event-stream client
 * reading /api/events), and on with /metrics scraped (at once and every SCRAPE_MS, as Prometheus
 * would; the first scrape loads prom-client). Each variant is a fresh process
 * (bench/support/http-child.ts) connected to an in-process CSMS. Goal (issue 15): < 5 MiB and < 1 ms
 * p99 more than off.
 * Single runs differed by up to 17 MiB (one child's heap growth and GC timing), so each variant runs
 * ROUNDS times, interleaved (off, on, page, scraped, off, …) so a slow spell of the machine hits all
 * of them, and the median of each is reported. BENCH_HTTP_SECONDS (default 3) is the measured time of
 * each child, after BENCH_HTTP_WARMUP seconds (default 10) of warm-up; the child reads RSS after forced
 * full collections (--expose-gc).
 * Why 10 s of warm-up: V8 sizes its young generation by the allocation rate of the last seconds, and
 * keeps it at 16 MiB through a collection while the start-up's loading is still in that window; 5 s
 * after start the figure was start-up, not idle (BENCH_HTTP_WARMUP=2 is the earlier setting).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCsms } from '../devtools/csms.js';

interface Figures {
  rssMiB: number;
  heapMiB: number;
  p99Ms: number;
  meanMs: number;
}

type Variant = 'off' | 'on' | 'page' | 'scraped';

const ROUNDS = 3;
const SCRAPE_MS = 5000;
const child = join(dirname(fileURLToPath(import.meta.url)), 'support', 'http-child.js');

async function variant(csmsUrl: string, v: Variant, warmupS: number, measureS: number): Promise<Figures> {
  const mode = v === 'off' ? 'off' : 'on';
  const proc = spawn(process.execPath, ['--expose-gc', child, csmsUrl, mode, String(warmupS), String(measureS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let reader: AbortController | undefined;
  let scraper: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        lines.push(line);
        if (lines.length === 1 && v === 'scraped' && typeof line.url === 'string') {
          const url = new URL('/metrics', line.url);
          const scrape = (): void => void fetch(url).then((res) => res.text()).catch(() => undefined);
          scrape();
          scraper = setInterval(scrape, SCRAPE_MS);
        }
        if (lines.length === 1 && v === 'page' && typeof line.url === 'string') {
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
  await done.finally(() => clearInterval(scraper));
  reader?.abort();
  return lines[1] as unknown as Figures;
}

function median(runs: Figures[]): Figures {
  const mid = (k: keyof Figures): number => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return { rssMiB: mid('rssMiB'), heapMiB: mid('heapMiB'), p99Ms: mid('p99Ms'), meanMs: mid('meanMs') };
}

const mib = (n: number): string => `${n.toFixed(1)} MiB`;
const ms = (n: number): string => `${n.toFixed(2)} ms`;

export default async function httpBench(): Promise<void> {
  const measureS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
  const warmupS = Number(process.env.BENCH_HTTP_WARMUP ?? 10);
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  try {
    const runs: Record<Variant, Figures[]> = { off: [], on: [], page: [], scraped: [] };
    for (let i = 0; i < ROUNDS; i++) {
      for (const v of Object.keys(runs) as Variant[]) runs[v].push(await variant(csms.url, v, warmupS, measureS));
    }
    const [off, on, page, scraped] = [median(runs.off), median(runs.on), median(runs.page), median(runs.scraped)];
    console.log(
      `idle station, 1 EVSE, CSMS connected; median of ${ROUNDS} interleaved children per variant, ${measureS} s measured after ${warmupS} s warm-up (goal: < +5 MiB RSS, < +1 ms p99)`,
    );
    const list = (k: keyof Figures): string => Object.entries(runs).map(([n, r]) => `${n} ${r.map((f) => f[k].toFixed(1)).join('/')}`).join(', ');
    console.log(`runs, RSS MiB: ${list('rssMiB')}`);
    console.log(`runs, V8 heap used MiB: ${list('heapMiB')}`);
    console.log(`http off (anchor):       RSS ${mib(off.rssMiB)} (heap ${mib(off.heapMiB)}), event-loop delay p99 ${ms(off.p99Ms)} (mean ${ms(off.meanMs)})`);
    const sign = (n: number): string => (n >= 0 ? '+' : '');
    for (const [name, f] of [['http on, no page:', on], ['http on, page open:', page], ['http on, /metrics scraped:', scraped]] as const) {
      console.log(
        `${name.padEnd(26)} RSS ${mib(f.rssMiB)} vs ${mib(off.rssMiB)} (${sign(f.rssMiB - off.rssMiB)}${mib(f.rssMiB - off.rssMiB)}, ×${(f.rssMiB / off.rssMiB).toFixed(2)}; heap ${sign(f.heapMiB - off.heapMiB)}${mib(f.heapMiB - off.heapMiB)}), ` +
          `p99 ${ms(f.p99Ms)} vs ${ms(off.p99Ms)} (${sign(f.p99Ms - off.p99Ms)}${ms(f.p99Ms - off.p99Ms)}, ×${(f.p99Ms / off.p99Ms).toFixed(2)})`,
      );
    }
  } finally {
    await csms.close();
  }
}
