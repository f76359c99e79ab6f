/**
 * The operator's window (issue 15) on the whole station as the daemon builds it: GET /api/status
 * validated against docs/status.schema.json through a session and a fault, the event stream, GET /metrics
 * parsed strictly and changing with a session, the link's offline state and retry time on the page and
 * in the log, and that nothing secret is served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { VirtualClock } from '../base/clock.js';
import { loggerOver, type Logger } from '../base/logger.js';
import { startCsms } from './support/csms.js';
import { startTestStation, type TestStation } from './support/harness.js';
import { repoRoot } from './support/paths.js';
import { parsePrometheus, sampleValue } from './support/prom-text.js';

const addFormats = addFormatsModule as unknown as { default: FormatsPlugin };
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats.default(ajv);
const validateStatus = ajv.compile(JSON.parse(readFileSync(join(repoRoot(), 'docs', 'status.schema.json'), 'utf8')) as object);

const TOKEN = 'test-token-0123456789abcdef';
const PASSWORD = 'station-password-not-to-show';

type Status = {
  ocpp: { connected: boolean; boot: { status: string } | null; lastError: { message: string } | null; nextRetryAt: string | null; nextRetryInS: number | null };
  outbox: { depth: number };
  evses: { status: string; powerW: number | null; contactor: { closed: boolean }; session: { id: string; idToken: string | null } | null; transactionId: string | null; faults: { kind: string }[]; currentOfferedA: number }[];
};

async function getStatus(st: TestStation): Promise<Status> {
  const res = await fetch(new URL('/api/status', st.http!.url));
  assert.equal(res.status, 200);
  const body = (await res.json()) as Status;
  assert.ok(validateStatus(body), JSON.stringify(validateStatus.errors));
  return body;
}

async function step(clock: VirtualClock, ms: number): Promise<void> {
  await clock.advance(ms);
  await new Promise((r) => setTimeout(r, 5));
}

async function eventually<T>(clock: VirtualClock, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await step(clock, 50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const httpPatch = (extra: Record<string, unknown> = {}) => ({ http: { enabled: true, host: '127.0.0.1', port: 0, control: true, token: TOKEN, ...extra } });

test('GET /api/status follows docs/status.schema.json: boot, a session (masked token, transaction id), a fault; no secrets', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'], password: PASSWORD });
  const clock = new VirtualClock();
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: csms.url,
    clock,
    configPatch: { ...httpPatch(), ocpp: { securityProfile: 1, password: PASSWORD } },
  });
  try {
    assert.match(st.http!.url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const booted = await eventually(clock, 'boot Accepted and Available', async () => {
      const s = await getStatus(st);
      return s.ocpp.boot?.status === 'Accepted' && s.evses[0]!.status === 'Available' ? s : undefined;
    });
    assert.equal(booted.ocpp.connected, true);
    st.sim.plug(1);
    st.sim.tap('7E11AA22BB');
    const charging = await eventually(clock, 'Charging with a transaction id', async () => {
      const s = await getStatus(st);
      return s.evses[0]!.status === 'Charging' && s.evses[0]!.transactionId ? s : undefined;
    });
    const e = charging.evses[0]!;
    assert.equal(e.contactor.closed, true);
    assert.equal(e.session?.idToken, '…22BB', 'the id token is masked');
    assert.equal(e.currentOfferedA > 0, true);
    // The CSMS's StartTransaction answer is the transaction id shown.
    const started = csms.log.find((x) => x.action === 'StartTransaction' && x.type === 'result');
    assert.equal(e.transactionId, String((started?.payload as { transactionId: number }).transactionId));
    await step(clock, 5000);
    const withPower = await getStatus(st);
    assert.ok((withPower.evses[0]!.powerW ?? 0) > 1000, `power ${withPower.evses[0]!.powerW}`);

    st.sim.fault(1, 'rcd');
    const faulted = await eventually(clock, 'the fault', async () => {
      const s = await getStatus(st);
      return s.evses[0]!.faults.length ? s : undefined;
    });
    assert.equal(faulted.evses[0]!.faults[0]!.kind, 'rcd-trip');
    assert.equal(faulted.evses[0]!.contactor.closed, false);

    for (const path of ['/api/status', '/metrics', '/', '/assets/page.js']) {
      const text = await (await fetch(new URL(path, st.http!.url))).text();
      assert.ok(!text.includes(PASSWORD), `${path} shows the CSMS password`);
      assert.ok(!text.includes(TOKEN), `${path} shows the HTTP token`);
      assert.ok(!text.includes('7E11AA22BB'), `${path} shows a whole id token`);
    }
  } finally {
    await st.stop();
    await csms.close();
  }
});

test('GET /api/events streams a snapshot, then status, frames and samples as a session starts', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  const clock = new VirtualClock();
  const st = await startTestStation({ ocppVersion: '2.0.1', csmsUrl: csms.url, clock, configPatch: httpPatch() });
  const ac = new AbortController();
  try {
    await csms.waitFor('StatusNotification');
    const res = await fetch(new URL('/api/events', st.http!.url), { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events: { event: string; data: Record<string, unknown> }[] = [];
    const reader = res.body!.getReader();
    let buf = '';
    void (async () => {
      const dec = new TextDecoder();
      for (;;) {
        const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        buf += dec.decode(r.value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    })();
    await eventually(clock, 'the snapshot', async () => (events.length ? true : undefined));
    assert.equal(events[0]!.event, 'snapshot');
    assert.ok(validateStatus(events[0]!.data.status), JSON.stringify(validateStatus.errors));
    assert.ok((events[0]!.data.frames as unknown[]).length >= 2, 'the frames so far (BootNotification …)');
    assert.equal(st.http!.streams(), 1);
    st.sim.plug(1);
    st.sim.tap('04A1B2C3D4');
    await eventually(clock, 'a status event with Occupied/Charging', async () =>
      events.some((e) => e.event === 'status' && (e.data as Status).evses[0]!.status === 'Charging') ? true : undefined,
    );
    await eventually(clock, 'a TransactionEvent frame', async () =>
      events.some((e) => e.event === 'frame' && e.data.action === 'TransactionEvent' && e.data.dir === 'out') ? true : undefined,
    );
    await step(clock, 5000);
    await eventually(clock, 'samples with power', async () =>
      events.some((e) => e.event === 'samples' && (e.data as unknown as { powerW: number }[]).some((s) => s.powerW > 0)) ? true : undefined,
    );
    const statuses = events.filter((e) => e.event === 'status');
    for (const s of statuses) assert.ok(validateStatus(s.data), JSON.stringify(validateStatus.errors));
    // A page that goes away is forgotten (no writes into a dead socket, a place for the next page).
    ac.abort();
    await eventually(clock, 'the stream to close', async () => (st.http!.streams() === 0 ? true : undefined));
  } finally {
    ac.abort();
    await st.stop();
    await csms.close();
  }
});

test('GET /metrics: strict Prometheus text whose values follow a session (energy, power, calls, latency, sessions)', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const clock = new VirtualClock();
  const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: csms.url, clock, configPatch: httpPatch() });
  const scrape = async () => {
    const res = await fetch(new URL('/metrics', st.http!.url));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  try {
    await csms.waitFor('StatusNotification');
    await step(clock, 100);
    const before = await scrape();
    for (const [name, type] of [
      ['ocpp_link_up', 'gauge'],
      ['ocpp_link_reconnects_total', 'counter'],
      ['ocpp_calls_sent_total', 'counter'],
      ['ocpp_call_results_total', 'counter'],
      ['ocpp_call_duration_seconds', 'histogram'],
      ['ocpp_outbox_messages', 'gauge'],
      ['ocpp_outbox_oldest_message_age_seconds', 'gauge'],
      ['ocpp_outbox_dead_letters', 'gauge'],
      ['evse_energy_import_watt_hours_total', 'counter'],
      ['evse_power_watts', 'gauge'],
      ['evse_current_offered_amperes', 'gauge'],
      ['evse_contactor_closed', 'gauge'],
      ['evse_faults_active', 'gauge'],
      ['evse_sessions_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['nodejs_eventloop_lag_p99_seconds', 'gauge'],
    ] as const) {
      assert.equal(before.get(name)?.type, type, `${name} is a ${type}`);
    }
    assert.equal(sampleValue(before, 'ocpp_link_up'), 1);
    assert.equal(sampleValue(before, 'ocpp_calls_sent_total', { action: 'BootNotification' }), 1);
    assert.equal(sampleValue(before, 'evse_contactor_closed', { evse: '1' }), 0);
    assert.equal(sampleValue(before, 'evse_sessions_total', { evse: '1' }) ?? 0, 0);
    const energy0 = sampleValue(before, 'evse_energy_import_watt_hours_total', { evse: '1' }) ?? 0;
    assert.ok((sampleValue(before, 'process_resident_memory_bytes') ?? 0) > 10e6);

    st.sim.plug(1);
    st.sim.tap('04A1B2C3D4');
    await eventually(clock, 'StartTransaction', async () => (csms.actions().includes('StartTransaction') ? true : undefined));
    for (let i = 0; i < 12; i++) await step(clock, 5000);
    const during = await scrape();
    assert.equal(sampleValue(during, 'evse_contactor_closed', { evse: '1' }), 1);
    assert.equal(sampleValue(during, 'evse_session_active', { evse: '1' }), 1);
    assert.equal(sampleValue(during, 'evse_sessions_total', { evse: '1' }), 1);
    assert.equal(sampleValue(during, 'evse_status', { evse: '1', status: 'Charging' }), 1);
    assert.ok((sampleValue(during, 'evse_power_watts', { evse: '1' }) ?? 0) > 1000);
    assert.ok((sampleValue(during, 'evse_current_offered_amperes', { evse: '1' }) ?? 0) >= 6);
    const energy1 = sampleValue(during, 'evse_energy_import_watt_hours_total', { evse: '1' }) ?? 0;
    assert.ok(energy1 > energy0 + 100, `energy ${energy0} → ${energy1} Wh over a minute of charging`);
    assert.equal(sampleValue(during, 'ocpp_calls_sent_total', { action: 'StartTransaction' }), 1);
    assert.equal(sampleValue(during, 'ocpp_call_results_total', { direction: 'sent', action: 'StartTransaction', result: 'ok' }), 1);
    assert.equal(sampleValue(during, 'ocpp_call_duration_seconds_count', { action: 'StartTransaction' }), 1);
    assert.equal(sampleValue(during, 'ocpp_call_duration_seconds_bucket', { action: 'StartTransaction', le: '+Inf' }), 1);

    // A CSMS-initiated call is counted as received, by action and result.
    const identity = csms.clients()[0]!.identity;
    await csms.call(identity, 'TriggerMessage', { requestedMessage: 'Heartbeat' });
    await step(clock, 100);
    const after = await scrape();
    assert.equal(sampleValue(after, 'ocpp_calls_received_total', { action: 'TriggerMessage' }), 1);
    assert.equal(sampleValue(after, 'ocpp_call_results_total', { direction: 'received', action: 'TriggerMessage', result: 'ok' }), 1);
    assert.ok((sampleValue(after, 'evse_energy_import_watt_hours_total', { evse: '1' }) ?? 0) >= energy1, 'a counter never goes down');
  } finally {
    await st.stop();
    await csms.close();
  }
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

test('CSMS unreachable: the status says why and when the next attempt comes, and so does the log', async () => {
  const clock = new VirtualClock();
  const lines: { msg: string; meta?: Record<string, unknown> }[] = [];
  const log: Logger = loggerOver({
    error: (msg, meta) => void lines.push({ msg, meta }),
    warn: (msg, meta) => void lines.push({ msg, meta }),
    info: () => {},
    debug: () => {},
  });
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: `ws://127.0.0.1:${await closedPort()}/ocpp`,
    clock,
    log,
    configPatch: { ...httpPatch({ control: false, token: undefined }), ocpp: { reconnect: { minDelayS: 10, maxDelayS: 60 } } },
  });
  try {
    const s = await eventually(clock, 'a failed attempt', async () => {
      const x = await getStatus(st);
      return x.ocpp.lastError ? x : undefined;
    });
    assert.equal(s.ocpp.connected, false);
    assert.match(s.ocpp.lastError!.message, /ECONNREFUSED/);
    assert.ok(s.ocpp.nextRetryAt, 'the next attempt is shown');
    // After the first failure: 10 s × 2, with jitter in the upper half (src/ocpp/rpc-link.ts backoffDelayMs).
    assert.ok(s.ocpp.nextRetryInS! >= 5 && s.ocpp.nextRetryInS! <= 20, `retry in ${s.ocpp.nextRetryInS} s`);
    const failed = lines.find((l) => l.msg === 'OCPP: connection failed');
    assert.ok(failed, 'the log says the connection failed');
    assert.match(String(failed.meta?.error), /ECONNREFUSED/);
    assert.equal(typeof failed.meta?.retryInS, 'number');
    const metrics = parsePrometheus(await (await fetch(new URL('/metrics', st.http!.url))).text());
    assert.equal(sampleValue(metrics, 'ocpp_link_up'), 0);
    assert.ok((sampleValue(metrics, 'ocpp_link_connection_attempts_total') ?? 0) >= 1);
  } finally {
    await st.stop();
  }
});
