/**
 * B01–B04: BootNotification with its reason, Pending / Rejected retries, Heartbeat.
 *
 * The reason is decided at the first BootNotification of a start, not when the adapter is built: the
 * adapter starts before the station, and only the station's start tells whether the restart was a
 * reset it performed (StationApi.lastReset). A Reset from the CSMS (B11/B12) leaves a note in SQLite
 * saying who asked: with the station's record of a reset that gives RemoteReset (or ScheduledReset
 * for an OnIdle reset that had to wait for the transactions), without a note LocalReset (a reset asked
 * for on the station itself), and without the station's record PowerUp, whatever the note says (the
 * power went before the reset was carried out). The note is used once.
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { BootNotificationResponse, BootReasonEnumType, ChargingStationType } from '../messages/v201.js';
import type { V201Context } from './context.js';

export type BootReason = BootReasonEnumType;

/** Retry interval when the CSMS gives none (B02.FR.07) or does not answer. */
const FALLBACK_RETRY_S = 60;
const REASON_KEY = '$internal.NextBootReason';

export class BootController {
  private retryTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  /** Undefined until the first BootNotification of this start decides it. */
  private reason: BootReason | undefined;
  private inFlight = false;

  constructor(
    private readonly ctx: V201Context,
    private readonly onAccepted: (firstSinceStart: boolean) => void,
  ) {}

  private acceptedOnce = false;

  /** Note who asked for the reset the station is about to perform (CSMS Reset → RemoteReset / ScheduledReset; PowerUp = no note). */
  setNextBootReason(reason: BootReason): void {
    this.ctx.dmRepo.set(REASON_KEY, 'Actual', reason, this.ctx.clock.now());
  }

  /** Why this start happened; read once the station has started, i.e. at the first BootNotification. */
  private startReason(): BootReason {
    if (this.reason !== undefined) return this.reason;
    const noted = this.ctx.dmRepo.get(REASON_KEY, 'Actual') as BootReason | undefined;
    const reset = this.ctx.station.lastReset?.();
    this.reason = reset === undefined ? 'PowerUp' : noted !== undefined && noted !== 'PowerUp' ? noted : 'LocalReset';
    if (noted !== undefined && noted !== 'PowerUp') this.ctx.dmRepo.set(REASON_KEY, 'Actual', 'PowerUp', this.ctx.clock.now());
    this.ctx.log.info('v201: boot reason', { reason: this.reason, stationReset: reset ?? null, noted: noted ?? null });
    return this.reason;
  }

  onOpen(): void {
    if (this.ctx.registration === 'Accepted') {
      // A reconnect within the same boot: no new BootNotification, queued messages may flow again.
      this.ctx.link.setReady(true);
      this.startHeartbeat();
      this.onAccepted(false);
      return;
    }
    this.ctx.link.setReady(false);
    void this.boot();
  }

  onClose(): void {
    this.ctx.clock.clear(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
  }

  stop(): void {
    this.onClose();
  }

  /** TriggerMessage(BootNotification): Rejected once Accepted (F06.FR.17). */
  trigger(): boolean {
    if (this.ctx.registration === 'Accepted') return false;
    this.startReason(); // the note of a reset is used up either way
    this.reason = 'Triggered';
    this.ctx.afterResponse(() => this.boot());
    return true;
  }

  async boot(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
    const { station } = this.ctx.deps.config;
    const chargingStation: ChargingStationType = { model: station.model, vendorName: station.vendor };
    if (station.serialNumber) chargingStation.serialNumber = station.serialNumber;
    if (station.firmwareVersion) chargingStation.firmwareVersion = station.firmwareVersion;
    let res: BootNotificationResponse | undefined;
    try {
      res = await this.ctx.send('BootNotification', { reason: this.startReason(), chargingStation });
    } finally {
      this.inFlight = false;
    }
    if (!this.ctx.link.connected) return;
    if (!res) {
      this.scheduleRetry(FALLBACK_RETRY_S);
      return;
    }
    // As 1.6 does: an operator sees why the station waits (Pending / Rejected and for how long).
    this.ctx.log.info('v201: BootNotification answered', { status: res.status, interval: res.interval });
    // B01.FR.06: the CSMS's time from now on in every timestamp (ctx.iso); the station clock is not changed.
    this.ctx.learnCsmsTime(res.currentTime);
    this.ctx.registration = res.status;
    if (res.status === 'Accepted') {
      if (res.interval > 0) this.ctx.dm.put('OCPPCommCtrlr.HeartbeatInterval', String(res.interval)); // B01.FR.04
      this.reason = 'PowerUp';
      this.ctx.link.setReady(true);
      this.startHeartbeat();
      const first = !this.acceptedOnce;
      this.acceptedOnce = true;
      this.onAccepted(first);
      return;
    }
    // Pending / Rejected: nothing but the next BootNotification after the interval (B02.FR.08, B03.FR.06).
    this.ctx.link.setReady(false);
    this.scheduleRetry(res.interval > 0 ? res.interval : FALLBACK_RETRY_S);
  }

  private scheduleRetry(seconds: number): void {
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = this.ctx.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.boot();
    }, seconds * 1000);
  }

  /** (Re)start the heartbeat at HeartbeatInterval; called again when the variable changes. */
  startHeartbeat(): void {
    this.ctx.clock.clear(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.ctx.registration !== 'Accepted' || !this.ctx.link.connected) return;
    const s = this.ctx.dm.int('OCPPCommCtrlr.HeartbeatInterval');
    if (s <= 0) return;
    this.heartbeatTimer = this.ctx.clock.setInterval(() => void this.heartbeat(), s * 1000);
  }

  async heartbeat(opts: { triggered?: boolean } = {}): Promise<void> {
    const res = await this.ctx.send('Heartbeat', {}, opts);
    if (res) this.ctx.learnCsmsTime(res.currentTime);
  }
}
