/**
 * The OCPP call counts and latencies /metrics reports, kept as plain numbers from the start (the frames
 * pass once; prom-client is loaded only at the first scrape, ./metrics.ts). A few numbers per action and
 * result, so it stays small however long the station runs unscraped.
 */
import type { CallOutcome, FrameListener } from './frames.js';

/** Upper bounds (seconds) of the call latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface LatencyCounts {
  /** Per bucket of LATENCY_BUCKETS, the observations in it alone (not cumulative); the last slot is > 30 s. */
  buckets: number[];
  sum: number;
  count: number;
}

export class CallTally implements FrameListener {
  /** CALLs the station sent, by action. */
  readonly sent = new Map<string, number>();
  /** CALLs the CSMS sent, by action. */
  readonly received = new Map<string, number>();
  /** Outcomes, keyed by direction, action and result (see resultKey). */
  readonly results = new Map<string, { direction: CallOutcome['direction']; action: string; result: CallOutcome['result']; n: number }>();
  /** Latency of the CALLs the station sent that were answered, by action. */
  readonly latency = new Map<string, LatencyCounts>();

  frame(): void {}

  call(direction: 'sent' | 'received', action: string): void {
    const m = direction === 'sent' ? this.sent : this.received;
    m.set(action, (m.get(action) ?? 0) + 1);
  }

  outcome(o: CallOutcome): void {
    const key = `${o.direction}\n${o.action}\n${o.result}`;
    const r = this.results.get(key);
    if (r) r.n++;
    else this.results.set(key, { direction: o.direction, action: o.action, result: o.result, n: 1 });
    if (o.direction !== 'sent' || o.seconds === undefined || !Number.isFinite(o.seconds)) return;
    let l = this.latency.get(o.action);
    if (!l) this.latency.set(o.action, (l = { buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    const i = LATENCY_BUCKETS.findIndex((le) => o.seconds! <= le);
    l.buckets[i < 0 ? LATENCY_BUCKETS.length : i]!++;
    l.sum += o.seconds;
    l.count++;
  }
}
