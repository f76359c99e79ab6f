/**
 * The station as the operator's window shows it: built from the station's public API and events, the
 * hardware parts (read-only) and the link's status. Keeps a one-hour history of power and offered
 * current per EVSE (a meter read every sampleS, on the station Clock) and the active faults.
 * Everything here is a listener: nothing it does can change what the station decides.
 */
import type { TimerHandle } from '../../base/clock.js';
import type { HalFault, MeterReading } from '../../hal/types.js';
import type { SessionEvent } from '../station/api.js';
import { FrameTracker } from './frames.js';
import type { HttpDeps } from './sources.js';

export interface Sample {
  /** Epoch ms. */
  t: number;
  evseId: number;
  powerW: number;
  offeredA: number;
}

export interface EvseCounters {
  energyWh: number | undefined;
  sessionsStarted: number;
  faultsRaised: Map<string, number>;
}

const HOUR_MS = 3_600_000;

export class HttpState {
  readonly frames: FrameTracker;
  private readonly readings = new Map<number, MeterReading>();
  private readonly faults = new Map<number, Map<string, HalFault>>();
  readonly counters = new Map<number, EvseCounters>();
  private readonly history: Sample[] = [];
  private timer: TimerHandle | undefined;
  private reading = false;
  private wasConnected = false;
  private readonly sampleListeners = new Set<(s: Sample[]) => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly undo: (() => void)[] = [];
  readonly startedAt: number;

  constructor(private readonly d: HttpDeps) {
    this.frames = new FrameTracker(() => d.clock.now());
    this.startedAt = d.clock.now();
    for (const id of [0, ...d.station.evseIds]) this.counters.set(id, { energyWh: undefined, sessionsStarted: 0, faultsRaised: new Map() });
    const { station } = d;
    const onFault = (evseId: number, f: HalFault): void => {
      let m = this.faults.get(evseId);
      if (!m) this.faults.set(evseId, (m = new Map()));
      m.set(f.kind, f);
      const c = this.counters.get(evseId);
      if (c) c.faultsRaised.set(f.kind, (c.faultsRaised.get(f.kind) ?? 0) + 1);
      this.changed();
    };
    const onCleared = (evseId: number, kind: string): void => {
      this.faults.get(evseId)?.delete(kind);
      this.changed();
    };
    const onSession = (e: SessionEvent): void => {
      if (e.type === 'started') {
        const c = this.counters.get(e.session.evseId);
        if (c) c.sessionsStarted++;
      }
      this.changed();
    };
    const onChange = (): void => this.changed();
    const onMeter = (s: { evseId: number; reading: MeterReading }): void => void this.readings.set(s.evseId, s.reading);
    station.on('fault-raised', onFault);
    station.on('fault-cleared', onCleared);
    station.on('session', onSession);
    station.on('status', onChange);
    station.on('limit', onChange);
    station.on('meter', onMeter);
    const offFrames = d.link.onFrame((dir, text) => this.frames.add(dir, text));
    this.undo.push(
      () => station.off('fault-raised', onFault),
      () => station.off('fault-cleared', onCleared),
      () => station.off('session', onSession),
      () => station.off('status', onChange),
      () => station.off('limit', onChange),
      () => station.off('meter', onMeter),
      offFrames,
    );
  }

  start(): void {
    const ms = (this.d.sampleS ?? 5) * 1000;
    void this.sample();
    this.timer = this.d.clock.setInterval(() => void this.sample(), ms);
  }

  stop(): void {
    this.d.clock.clear(this.timer);
    this.timer = undefined;
    for (const u of this.undo.splice(0)) u();
    this.sampleListeners.clear();
    this.changeListeners.clear();
  }

  onSamples(fn: (s: Sample[]) => void): () => void {
    this.sampleListeners.add(fn);
    return () => this.sampleListeners.delete(fn);
  }

  /** Something the page shows changed (status, session, fault, limit). */
  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  samples(): Sample[] {
    return this.history.slice();
  }

  lastReading(evseId: number): MeterReading | undefined {
    return this.readings.get(evseId);
  }

  activeFaults(evseId: number): HalFault[] {
    return [...(this.faults.get(evseId)?.values() ?? [])];
  }

  /** Read every meter once (skipped while the previous round is still reading). */
  async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    const connected = this.d.link.status().connected;
    // Calls still waiting when the connection dropped are never answered on it.
    if (this.wasConnected && !connected) this.frames.connectionLost();
    this.wasConnected = connected;
    try {
      const round: Sample[] = [];
      for (const evse of this.d.hal.evses) {
        let r: MeterReading | undefined;
        try {
          r = await evse.meter.read();
        } catch {
          // A silent meter is the station's fault to raise; the chart just has a gap.
          continue;
        }
        this.readings.set(evse.id, r);
        const c = this.counters.get(evse.id);
        if (c) c.energyWh = r.energyImportWh;
        round.push({ t: this.d.clock.now(), evseId: evse.id, powerW: r.powerW, offeredA: evse.pilot.maxCurrent });
      }
      const now = this.d.clock.now();
      this.history.push(...round);
      while (this.history.length && now - this.history[0]!.t > HOUR_MS) this.history.shift();
      for (const l of this.sampleListeners) l(round);
    } finally {
      this.reading = false;
    }
  }

  private changed(): void {
    for (const l of this.changeListeners) {
      try {
        l();
      } catch {
        // never into the station's emit
      }
    }
  }
}
