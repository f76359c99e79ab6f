/**
 * Outbox figures on this machine: durable enqueues per second (each one an fsync'ed SQLite commit),
 * drain rate to a local CSMS, latency from enqueue to the frame on the wire (p50/p99), and the
 * database size and process RSS with 10,000 messages queued and after the drain.
 * The CSMS runs in the same process (strict schema validation included), so the drain rate and the
 * RSS include its share of the work.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SystemClock } from '../base/clock.js';
import { loggerOver, type Logger } from '../base/logger.js';
import { benchLinkConfig } from './support/link-config.js';
import { startCsms } from '../devtools/csms.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase, type Db } from '../src/store/db.js';

const QUEUED = 10_000;
const DURABLE_SAMPLE = 1_000;
const LATENCY_SAMPLE = 500;

const quiet: Logger = loggerOver({ error: (m) => console.error(m), warn: () => undefined, info: () => undefined, debug: () => undefined });


const payload = (n: number) => ({ vendorId: 'ocpp-station', messageId: 'bench', data: String(n) });

function dbBytes(path: string): number {
  let total = 0;
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) total += statSync(f).size;
  return total;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function until(fn: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

export default async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-outbox-'));
  const dbPath = join(dir, 'station.db');
  const csms = await startCsms();
  let db: Db | undefined;
  let link: RpcLink | undefined;
  try {
    db = openDatabase(dbPath);
    link = createLink({ ocpp: benchLinkConfig(csms.url), identity: 'BENCH1', stateDir: dir }, { db, clock: new SystemClock(), log: quiet });

    // 1. Durable enqueues: one committed (synchronous=FULL) transaction each, link not started.
    //    Each commit blocks the event loop for its fsync; the longest such block is what the
    //    safety reactions (contactor opening) could be delayed by.
    let longestMs = 0;
    let t0 = performance.now();
    for (let i = 0; i < DURABLE_SAMPLE; i++) {
      const s = performance.now();
      link.enqueue('DataTransfer', payload(i));
      longestMs = Math.max(longestMs, performance.now() - s);
    }
    const durableRate = DURABLE_SAMPLE / ((performance.now() - t0) / 1000);
    console.log(
      `outbox: durable enqueue          ${durableRate.toFixed(0)} msg/s (${DURABLE_SAMPLE} commits, synchronous=FULL, WAL); longest commit ${longestMs.toFixed(1)} ms`,
    );

    // 2. Fill to 10,000 queued (the rest in one transaction to save time) and measure.
    db.transaction(() => {
      for (let i = DURABLE_SAMPLE; i < QUEUED; i++) link!.enqueue('DataTransfer', payload(i));
    })();
    console.log(`outbox: ${QUEUED} queued              DB ${mb(dbBytes(dbPath))}, RSS ${mb(process.memoryUsage().rss)}`);

    // 3. Drain to the local CSMS, watching the event-loop delay while it deletes (one commit per answer).
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    link.setReady(true);
    t0 = performance.now();
    await link.start();
    await until(() => link!.pendingCount() === 0, 300_000);
    const drainS = (performance.now() - t0) / 1000;
    loop.disable();
    console.log(`outbox: drain to local CSMS      ${(QUEUED / drainS).toFixed(0)} msg/s (${QUEUED} in ${drainS.toFixed(1)} s, one CALL in flight)`);
    // The histogram includes its own 5 ms sampling period; report only the lateness beyond it.
    const late = (ns: number) => Math.max(0, ns / 1e6 - 5).toFixed(1);
    console.log(
      `outbox: event-loop lateness      p50 ${late(loop.percentile(50))} ms, p99 ${late(loop.percentile(99))} ms, max ${late(loop.max)} ms (during the drain)`,
    );
    console.log(`outbox: after drain              DB ${mb(dbBytes(dbPath))}, RSS ${mb(process.memoryUsage().rss)}`);

    // 4. Latency from enqueue() to the frame handed to the socket, one message at a time in a quiet queue.
    const sentAt = new Map<string, number>();
    const stop = link.onFrame((dir, text) => {
      if (dir !== 'out') return;
      const m = /"messageId":"lat","data":"(\d+)"/.exec(text);
      if (m) sentAt.set(m[1]!, performance.now());
    });
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLE; i++) {
      const start = performance.now();
      link.enqueue('DataTransfer', { vendorId: 'ocpp-station', messageId: 'lat', data: String(i) });
      await until(() => sentAt.has(String(i)), 10_000);
      latencies.push(sentAt.get(String(i))! - start);
      // Let the answer arrive so each sample starts with an empty queue.
      await until(() => link!.pendingCount() === 0, 10_000);
    }
    stop();
    latencies.sort((a, b) => a - b);
    console.log(
      `outbox: enqueue → wire latency   p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms (${LATENCY_SAMPLE} samples, includes the commit)`,
    );
  } finally {
    await link?.stop();
    db?.close();
    await csms.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run directly: node dist/bench/outbox.js
if (import.meta.url === `file://${process.argv[1]}`) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
