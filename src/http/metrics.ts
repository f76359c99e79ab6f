/**
 * GET /metrics: Prometheus text format (prom-client), in its own registry. Values that live elsewhere
 * (link, outbox, meters) are read when scraped; call counts come from the frames as they pass.
 * Names follow the Prometheus conventions: base units in the name, counters end in _total.
 * prom-client (with @opentelemetry/api, about 90 modules) is loaded at the first scrape, not with the
 * server: a station nobody scrapes does not carry it (npm run bench -- http). Until then the only
 * state is plain: the call tally (./call-tally.ts) and the event-loop delay monitor.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Counter, Metric, Registry } from 'prom-client';
import { CallTally, LATENCY_BUCKETS } from './call-tally.js';
import type { HttpState } from './state.js';
import type { HttpDeps } from './sources.js';

type PromClient = typeof import('prom-client');

export interface Metrics {
  /** The exposition text and its content type; the first call loads prom-client. */
  scrape(): Promise<{ contentType: string; text: string }>;
  /** Stops the event-loop monitor and the call tally. */
  stop(): void;
}

/**
 * The process figures an operator needs (RSS, heap, CPU, event-loop delay), with prom-client's default
 * names. Not collectDefaultMetrics(): its GC observer and per-heap-space gauges cost an idle station
 * several MiB (npm run bench), for figures nobody asked for here.
 */
function processMetrics({ Counter, Gauge }: PromClient, registry: Registry, loop: IntervalHistogram): void {
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use, in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  const cpu = new Counter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds', registers: [registry] });
  let cpuSeen = 0;
  const p50 = new Gauge({ name: 'nodejs_eventloop_lag_p50_seconds', help: 'Event-loop delay, median since the last scrape (20 ms resolution)', registers: [registry] });
  new Gauge({
    name: 'nodejs_eventloop_lag_p99_seconds',
    help: 'Event-loop delay, 99th percentile since the last scrape (20 ms resolution)',
    registers: [registry],
    collect() {
      const u = process.cpuUsage();
      const total = (u.user + u.system) / 1e6;
      if (total > cpuSeen) cpu.inc(total - cpuSeen);
      cpuSeen = total;
      // The delay beyond the sampling interval itself.
      const extra = (q: number): number => Math.max(0, loop.percentile(q) / 1e9 - 0.02);
      p50.set(extra(50));
      this.set(extra(99));
      loop.reset();
    },
  });
}

/** Counters whose source is a running total elsewhere: add what it grew by since the last scrape. */
function follow(counter: Counter<string>, last: Map<string, number>, key: string, labels: Record<string, string>, value: number | undefined): void {
  if (value === undefined) return;
  const before = last.get(key);
  last.set(key, value);
  if (before === undefined) counter.inc(labels, value);
  else if (value > before) counter.inc(labels, value - before);
}

/**
 * The latency histogram as a registry member whose values come from the plain tally (it counted the
 * calls before prom-client was loaded); the same name, buckets and samples as a prom-client Histogram.
 */
export function latencyHistogram(tally: CallTally): Metric {
  const name = 'ocpp_call_duration_seconds';
  const metric = {
    name,
    help: 'Time from a CALL the station sent to the CSMS answer',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      for (const [action, l] of tally.latency) {
        let acc = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          acc += l.buckets[i]!;
          values.push({ labels: { le, action }, value: acc, metricName: `${name}_bucket` });
        });
        values.push({ labels: { le: '+Inf', action }, value: l.count, metricName: `${name}_bucket` });
        values.push({ labels: { action }, value: l.sum, metricName: `${name}_sum` });
        values.push({ labels: { action }, value: l.count, metricName: `${name}_count` });
      }
      return { name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values };
    },
  };
  // The registry reads name, type and get() only; prom-client's types list just its own classes.
  return metric as unknown as Metric;
}

export function createMetrics(d: HttpDeps, s: HttpState): Metrics {
  // Started with the server, so the first scrape's delay figures cover the time before it.
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const tally = new CallTally();
  const offTally = s.frames.subscribe(tally);
  let loading: Promise<Registry> | undefined;
  return {
    async scrape() {
      loading ??= import('prom-client').then((prom) => buildRegistry(prom, d, s, tally, loop));
      let registry: Registry;
      try {
        registry = await loading;
      } catch (err) {
        loading = undefined;
        throw err;
      }
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    stop() {
      loop.disable();
      offTally();
    },
  };
}

function buildRegistry(prom: PromClient, d: HttpDeps, s: HttpState, tally: CallTally, loop: IntervalHistogram): Registry {
  const { Counter, Gauge, Registry } = prom;
  const registry = new Registry();
  processMetrics(prom, registry, loop);
  const seen = new Map<string, number>();
  const evses = d.hal.evses;
  const ev = (id: number): { evse: string } => ({ evse: String(id) });

  // Registered first: its collect reads everything once, before any metric of this registry is written out.
  const up = new Gauge({
    name: 'ocpp_link_up',
    help: '1 while the OCPP WebSocket to the CSMS is open, else 0',
    registers: [registry],
    collect: () => refresh(),
  });
  const attempts = new Counter({ name: 'ocpp_link_connection_attempts_total', help: 'Connection attempts to the CSMS', registers: [registry] });
  const reconnects = new Counter({ name: 'ocpp_link_reconnects_total', help: 'Connections opened after the first one', registers: [registry] });
  const outboxDepth = new Gauge({ name: 'ocpp_outbox_messages', help: 'Transaction messages waiting in the durable outbox', registers: [registry] });
  const outboxAge = new Gauge({ name: 'ocpp_outbox_oldest_message_age_seconds', help: 'Age of the oldest message in the outbox (0 when empty)', registers: [registry] });
  const dead = new Gauge({ name: 'ocpp_outbox_dead_letters', help: 'Messages that exhausted their attempts (outbox_dead table)', registers: [registry] });
  const bootAccepted = new Gauge({ name: 'ocpp_boot_accepted', help: '1 once the CSMS accepted the BootNotification of this run', registers: [registry] });

  const sent = new Counter({ name: 'ocpp_calls_sent_total', help: 'CALLs the station sent, by action', labelNames: ['action'], registers: [registry] });
  const received = new Counter({ name: 'ocpp_calls_received_total', help: 'CALLs the CSMS sent, by action', labelNames: ['action'], registers: [registry] });
  const results = new Counter({
    name: 'ocpp_call_results_total',
    help: 'Calls answered or given up, by direction (sent, received), action and result (ok, error, unanswered)',
    labelNames: ['direction', 'action', 'result'],
    registers: [registry],
  });
  registry.registerMetric(latencyHistogram(tally));

  const energy = new Counter({ name: 'evse_energy_import_watt_hours_total', help: 'Energy import register of the EVSE meter', labelNames: ['evse'], registers: [registry] });
  const sessions = new Counter({ name: 'evse_sessions_total', help: 'Charging sessions started on the EVSE', labelNames: ['evse'], registers: [registry] });
  const faultsRaised = new Counter({ name: 'evse_faults_raised_total', help: 'Faults raised, by kind (evse 0: the station)', labelNames: ['evse', 'kind'], registers: [registry] });
  const power = new Gauge({ name: 'evse_power_watts', help: 'Active power the meter reads', labelNames: ['evse'], registers: [registry] });
  const current = new Gauge({ name: 'evse_current_amperes', help: 'Current drawn per phase', labelNames: ['evse', 'phase'], registers: [registry] });
  const offered = new Gauge({ name: 'evse_current_offered_amperes', help: 'Current offered to the EV by the pilot PWM (0 = none)', labelNames: ['evse'], registers: [registry] });
  const contactor = new Gauge({ name: 'evse_contactor_closed', help: '1 while the contactor is commanded closed', labelNames: ['evse'], registers: [registry] });
  const faults = new Gauge({ name: 'evse_faults_active', help: 'Faults active now', labelNames: ['evse'], registers: [registry] });
  const active = new Gauge({ name: 'evse_session_active', help: '1 while a charging session runs on the EVSE', labelNames: ['evse'], registers: [registry] });
  const status = new Gauge({
    name: 'evse_status',
    help: 'Connector status: 1 for the current one (OCPP 1.6 status names)',
    labelNames: ['evse', 'status'],
    registers: [registry],
  });

  function refresh(): void {
    const st = d.link.status();
    up.set(st.connected ? 1 : 0);
    follow(attempts, seen, 'attempts', {}, st.attempts);
    follow(reconnects, seen, 'reconnects', {}, Math.max(0, st.opens - 1));
    outboxDepth.set(st.outbox.depth);
    outboxAge.set(st.outbox.oldestCreatedAt === undefined ? 0 : Math.max(0, (d.clock.now() - st.outbox.oldestCreatedAt) / 1000));
    dead.set(st.outbox.deadLetters);
    bootAccepted.set(s.frames.boot?.status === 'Accepted' ? 1 : 0);
    for (const [action, n] of tally.sent) follow(sent, seen, `sent:${action}`, { action }, n);
    for (const [action, n] of tally.received) follow(received, seen, `received:${action}`, { action }, n);
    for (const [key, r] of tally.results) follow(results, seen, `result:${key}`, { direction: r.direction, action: r.action, result: r.result }, r.n);
    status.reset();
    for (const hal of evses) {
      const id = hal.id;
      status.set({ ...ev(id), status: d.station.connector(id).status }, 1);
      const r = s.lastReading(id);
      const c = s.counters.get(id);
      follow(energy, seen, `energy:${id}`, ev(id), c?.energyWh);
      follow(sessions, seen, `sessions:${id}`, ev(id), c?.sessionsStarted);
      for (const [kind, n] of c?.faultsRaised ?? []) follow(faultsRaised, seen, `fault:${id}:${kind}`, { ...ev(id), kind }, n);
      if (r) {
        power.set(ev(id), r.powerW);
        for (const phase of ['L1', 'L2', 'L3'] as const) {
          const a = r.currentA[phase];
          if (a !== undefined) current.set({ ...ev(id), phase }, a);
        }
      }
      offered.set(ev(id), hal.pilot.maxCurrent);
      contactor.set(ev(id), hal.contactor.commanded ? 1 : 0);
      faults.set(ev(id), s.activeFaults(id).length);
      active.set(ev(id), d.station.session(id) ? 1 : 0);
    }
    for (const [kind, n] of s.counters.get(0)?.faultsRaised ?? []) follow(faultsRaised, seen, `fault:0:${kind}`, { evse: '0', kind }, n);
  }
  return registry;
}
