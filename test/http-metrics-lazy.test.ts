/**
 * GET /metrics with prom-client loaded at the first scrape (src/http/metrics.ts): until then the station
 * carries neither prom-client nor fastify's schema compilers (the memory goal of issue 15), and what
 * happened before the first scrape (BootNotification, StatusNotifications, their latency) is all in it,
 * counted once, as strict Prometheus text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { Histogram, Registry } from 'prom-client';
import { VirtualClock } from '../base/clock.js';
import { CallTally, LATENCY_BUCKETS } from '../src/http/call-tally.js';
import { latencyHistogram } from '../src/http/metrics.js';
import { startCsms } from './support/csms.js';
import { startTestStation } from './support/harness.js';
import { parsePrometheus, sampleValue, type PromFamily } from './support/prom-text.js';

/** Whether a CommonJS package has been loaded into this process (import of CJS goes through this cache). */
function loaded(pkg: string): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`/node_modules/${pkg}/`));
}

test('GET /metrics, first scrape: prom-client is loaded only then, and the calls before it are all there, counted once', async () => {
  // This file imports prom-client itself (the histogram test below) only through a dynamic import.
  assert.equal(loaded('prom-client'), false, 'precondition: nothing in this process loaded prom-client yet');
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const clock = new VirtualClock();
  const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: csms.url, clock, configPatch: { http: { enabled: true, host: '127.0.0.1', port: 0 } } });
  try {
    await csms.waitFor('StatusNotification');
    for (let i = 0; i < 5; i++) {
      await clock.advance(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    const status = await fetch(new URL('/api/status', st.http!.url));
    assert.equal(status.status, 200);
    assert.equal(loaded('prom-client'), false, 'the server runs (and serves /api/status) without prom-client');
    assert.equal(loaded('@fastify/ajv-compiler'), false, 'no JSON-schema compiler is loaded for routes without schemas');
    assert.equal(loaded('@fastify/fast-json-stringify-compiler'), false);

    const scrape = async (): Promise<Map<string, PromFamily>> => {
      const res = await fetch(new URL('/metrics', st.http!.url));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parsePrometheus(await res.text());
    };
    const first = await scrape();
    assert.equal(loaded('prom-client'), true);
    const statusSent = csms.actions().filter((a) => a === 'StatusNotification').length;
    assert.ok(statusSent >= 1);
    for (const m of [first, await scrape()]) {
      assert.equal(m.get('ocpp_call_duration_seconds')?.type, 'histogram');
      assert.equal(sampleValue(m, 'ocpp_calls_sent_total', { action: 'BootNotification' }), 1);
      assert.equal(sampleValue(m, 'ocpp_call_results_total', { direction: 'sent', action: 'BootNotification', result: 'ok' }), 1);
      assert.equal(sampleValue(m, 'ocpp_calls_sent_total', { action: 'StatusNotification' }), statusSent);
      assert.equal(sampleValue(m, 'ocpp_call_duration_seconds_count', { action: 'BootNotification' }), 1);
      assert.equal(sampleValue(m, 'ocpp_call_duration_seconds_bucket', { action: 'BootNotification', le: '+Inf' }), 1);
      assert.equal(sampleValue(m, 'ocpp_call_duration_seconds_count', { action: 'StatusNotification' }), statusSent);
      const sum = sampleValue(m, 'ocpp_call_duration_seconds_sum', { action: 'BootNotification' }) ?? 0;
      assert.ok(sum > 0 && sum < 30, `BootNotification latency ${sum} s`);
      // Cumulative buckets: never decreasing, and the first bound at or above the latency holds it.
      const buckets = m
        .get('ocpp_call_duration_seconds')!
        .samples.filter((s) => s.name === 'ocpp_call_duration_seconds_bucket' && s.labels.action === 'BootNotification')
        .map((s) => [s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value] as const);
      assert.equal(buckets.length, LATENCY_BUCKETS.length + 1);
      for (const [le, n] of buckets) assert.equal(n, le >= sum ? 1 : 0, `le=${le} holds ${n} of a ${sum} s call`);
      assert.equal(sampleValue(m, 'ocpp_link_up'), 1);
      assert.equal(sampleValue(m, 'ocpp_boot_accepted'), 1);
    }
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('the call latency histogram fed before prom-client loads prints exactly as a prom-client Histogram with the same observations', async () => {
  const prom = await import('prom-client');
  const tally = new CallTally();
  const reference = new prom.Histogram({ name: 'ocpp_call_duration_seconds', help: 'Time from a CALL the station sent to the CSMS answer', labelNames: ['action'], buckets: [...LATENCY_BUCKETS], registers: [] });
  const observations: [string, number][] = [
    ['BootNotification', 0.003],
    ['StartTransaction', 0.05],
    ['StartTransaction', 0.7],
    ['MeterValues', 31],
    ['MeterValues', 0.1],
    ['Heartbeat', 2.5000001],
  ];
  for (const [action, seconds] of observations) {
    tally.outcome({ direction: 'sent', action, result: 'ok', seconds });
    reference.observe({ action }, seconds);
  }
  // Neither calls the CSMS made nor unanswered calls have a latency.
  tally.outcome({ direction: 'received', action: 'Reset', result: 'ok', seconds: 0.2 });
  tally.outcome({ direction: 'sent', action: 'Heartbeat', result: 'unanswered' });
  const text = async (metric: Parameters<Registry['registerMetric']>[0]): Promise<string> => {
    const r = new prom.Registry();
    r.registerMetric(metric);
    return r.metrics();
  };
  const ours = await text(latencyHistogram(tally));
  assert.equal(ours, await text(reference as Histogram<string>));
  assert.equal(sampleValue(parsePrometheus(ours), 'ocpp_call_duration_seconds_bucket', { action: 'MeterValues', le: '30' }), 1);
});
