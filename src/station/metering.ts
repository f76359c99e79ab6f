/**
 * Meter sampling: periodic during sessions, clock-aligned for every EVSE, and on demand. Every
 * timer goes through the injected Clock. A meter that fails to answer is logged, never thrown.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import { TypedEmitter } from '../../base/emitter.js';
import type { MeterReading } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { MeterSample, SampleContext } from './api.js';
import type { Evse } from './evse.js';

const DAY_MS = 86_400_000;

export interface MeteringDeps {
  clock: Clock;
  log: Logger;
  evses: Evse[];
  /** Running session on the EVSE, if any. */
  sessionOf: (evseId: number) => string | undefined;
}

export interface MeteringEvents {
  sample: [MeterSample];
}

export class Metering extends TypedEmitter<MeteringEvents> {
  private sampleS = 0;
  private alignedS = 0;
  private readonly periodic = new Map<number, TimerHandle>();
  private alignedTimer: TimerHandle | undefined;
  private readonly last = new Map<number, MeterReading>();
  private stopped = false;

  constructor(private readonly d: MeteringDeps) {
    super(d.log);
  }

  /** Last reading seen of an EVSE's meter (kept fresh by every read). */
  lastReading(evseId: number): MeterReading | undefined {
    return this.last.get(evseId);
  }

  /** Read a meter; undefined when it does not answer. */
  async read(evseId: number): Promise<MeterReading | undefined> {
    const evse = this.d.evses.find((e) => e.id === evseId);
    if (!evse) return undefined;
    try {
      const r = await evse.hal.meter.read();
      this.last.set(evseId, r);
      evse.noteReading(r);
      return r;
    } catch (err) {
      this.d.log.warn('meter read failed', { evse: evseId, err: String(err) });
      return undefined;
    }
  }

  /** Read and emit a sample; undefined when the meter does not answer. */
  async sample(evseId: number, context: SampleContext, sessionId = this.d.sessionOf(evseId)): Promise<MeterSample | undefined> {
    const reading = await this.read(evseId);
    if (!reading || this.stopped) return undefined;
    const evse = this.d.evses.find((e) => e.id === evseId);
    const sample: MeterSample = {
      evseId,
      ...(sessionId !== undefined ? { sessionId } : {}),
      context,
      reading,
      currentOfferedA: evse ? evse.offeredCurrent() : 0,
    };
    this.emit('sample', sample);
    return sample;
  }

  setSampleInterval(seconds: number): void {
    this.sampleS = Math.max(0, seconds);
    for (const evseId of [...this.periodic.keys()]) {
      this.stopPeriodic(evseId);
      this.startPeriodic(evseId);
    }
  }

  /** A session started on the EVSE: sample it every interval until it ends. */
  startPeriodic(evseId: number): void {
    this.stopPeriodic(evseId);
    if (this.stopped) return;
    if (this.sampleS <= 0) {
      // Remember that the EVSE wants samples, so a later interval change starts them.
      this.periodic.set(evseId, { id: -1 });
      return;
    }
    this.periodic.set(
      evseId,
      this.d.clock.setInterval(() => void this.sample(evseId, 'Sample.Periodic'), this.sampleS * 1000),
    );
  }

  stopPeriodic(evseId: number): void {
    const t = this.periodic.get(evseId);
    if (t && t.id !== -1) this.d.clock.clear(t);
    this.periodic.delete(evseId);
  }

  setAlignedInterval(seconds: number): void {
    this.alignedS = Math.max(0, seconds);
    this.d.clock.clear(this.alignedTimer);
    this.alignedTimer = undefined;
    this.scheduleAligned();
  }

  /** Next boundary: midnight (UTC, the clock's time) plus a whole number of intervals. */
  nextAlignedAt(now: number): number {
    const ms = this.alignedS * 1000;
    const midnight = Math.floor(now / DAY_MS) * DAY_MS;
    const next = midnight + (Math.floor((now - midnight) / ms) + 1) * ms;
    // An interval that does not divide the day restarts at the next midnight.
    return Math.min(next, midnight + DAY_MS);
  }

  private scheduleAligned(): void {
    if (this.alignedS <= 0 || this.stopped) return;
    const now = this.d.clock.now();
    this.alignedTimer = this.d.clock.setTimeout(() => {
      this.alignedTimer = undefined;
      for (const e of this.d.evses) void this.sample(e.id, 'Sample.Clock');
      this.scheduleAligned();
    }, this.nextAlignedAt(now) - now);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.periodic.keys()]) this.stopPeriodic(id);
    this.d.clock.clear(this.alignedTimer);
    this.alignedTimer = undefined;
  }
}
