/**
 * One idle station for bench/http.ts, as the daemon builds it (src/wiring.ts, SystemClock), with the
 * HTTP server on or off: prints {"url": …} once up, then after the warm-up and the measured seconds
 * {"rssMiB": …, "heapMiB": …, "p99Ms": …, "meanMs": …} (V8 heap in use; event-loop delay from perf_hooks), and exits.
 *   node dist/bench/support/http-child.js CSMS_URL on|off WARMUP_S MEASURE_S
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SystemClock } from '../../base/clock.js';
import { configFromObject } from '../../src/config/load.js';
import { buildStation } from '../../src/wiring.js';
import { silentLogger } from '../../base/logger.js';

const [csmsUrl, mode, warmS, measureS] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
const silent = silentLogger;
const config = configFromObject({
  station: { identity: 'BENCH-HTTP' },
  ocpp: { version: '1.6', csmsUrl, messageLog: { enabled: false } },
  hal: { board: 'sim' },
  stateDir: dir,
  log: { level: 'warn' },
  http: { enabled: mode === 'on', host: '127.0.0.1', port: 0 },
});
const built = await buildStation(config, { clock: new SystemClock(), log: silent, control: false });
process.stdout.write(JSON.stringify({ url: built.http?.url ?? null }) + '\n');
await new Promise((r) => setTimeout(r, Number(warmS) * 1000));
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
await new Promise((r) => setTimeout(r, Number(measureS) * 1000));
h.disable();
// After a full collection (the parent passes --expose-gc), so garbage waiting for the GC is not counted.
// Twice, a turn apart: weak callbacks and finalizers the first one queued free their memory in the second.
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
await new Promise((r) => setImmediate(r));
gc?.();
const mem = process.memoryUsage();
const [rssMiB, heapMiB] = [mem.rss / 1024 / 1024, mem.heapUsed / 1024 / 1024];
process.stdout.write(JSON.stringify({ rssMiB, heapMiB, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6 }) + '\n');
await built.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
