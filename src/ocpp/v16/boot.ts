/**
 * Registration with the Central System (spec 4.2) and the heartbeat (4.6).
 *
 * BootNotification goes out each time the link opens. Until it is Accepted nothing else is sent:
 * the outbox stays closed (link.setReady(false)) and the other parts check `state` before sending.
 * Pending / Rejected: retry after the interval the CSMS gave (DEFAULT_RETRY_S when it gave 0).
 * In Pending the CSMS may call us (the handlers answer); in Rejected the handlers refuse.
 *
 * Time: the CSMS's currentTime sets an offset to the station clock (never the system clock).
 *
 * Heartbeat: sent every HeartbeatInterval seconds while Accepted, whatever other traffic there was.
 * Spec 4.6 allows skipping it after other traffic; we do not, so that the clock offset is refreshed
 * at a known rate and the CSMS sees a regular beat (one small frame per interval is cheap).
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { RegistrationState, V16Context } from './context.js';

const DEFAULT_RETRY_S = 60;

interface BootConf {
  status: 'Accepted' | 'Pending' | 'Rejected';
  currentTime: string;
  interval: number;
}

const cut = (s: string | undefined, n: number): string | undefined => (s === undefined || s === '' ? undefined : s.slice(0, n));

export class Registration {
  state: RegistrationState = 'offline';
  offsetMs = 0;
  private retryTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private booting = false;

  constructor(
    private readonly ctx: Omit<V16Context, 'registration'>,
    private readonly onAccepted: () => void,
  ) {}

  linkOpened(): void {
    this.state = 'booting';
    void this.boot();
  }

  linkClosed(): void {
    this.state = 'offline';
    this.ctx.link.setReady(false);
    this.clearTimers();
  }

  stop(): void {
    this.clearTimers();
  }

  /** Send BootNotification now (on open, on retry, or on TriggerMessage while Pending). */
  async boot(): Promise<void> {
    if (this.booting) return;
    const { link, config, clock, log } = this.ctx;
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
    this.booting = true;
    const st = config.station;
    const req: Record<string, string> = { chargePointVendor: st.vendor.slice(0, 20), chargePointModel: st.model.slice(0, 20) };
    const serial = cut(st.serialNumber, 25);
    if (serial) req.chargePointSerialNumber = serial;
    const fw = cut(st.firmwareVersion, 50);
    if (fw) req.firmwareVersion = fw;
    let conf: BootConf;
    try {
      conf = await link.call<BootConf>('BootNotification', req);
    } catch (err) {
      this.booting = false;
      log.warn('BootNotification failed', { error: String(err) });
      if (link.connected && this.state !== 'offline') this.scheduleRetry(DEFAULT_RETRY_S);
      return;
    }
    this.booting = false;
    if (this.state === 'offline') return;
    log.info('BootNotification answered', { status: conf.status, interval: conf.interval });
    if (conf.status === 'Accepted') {
      this.syncTime(conf.currentTime);
      this.state = 'Accepted';
      if (conf.interval > 0) this.ctx.cfg.setInternal('HeartbeatInterval', String(conf.interval), clock.now());
      this.restartHeartbeat();
      // Present statuses (errata 3.22), then open the outbox; the link's send order puts the
      // transaction messages queued while offline before the statuses (src/ocpp/call-queue.ts).
      this.onAccepted();
      link.setReady(true);
    } else {
      this.state = conf.status;
      link.setReady(false);
      this.stopHeartbeat();
      this.scheduleRetry(conf.interval > 0 ? conf.interval : DEFAULT_RETRY_S);
    }
  }

  /** (Re)start the heartbeat from the HeartbeatInterval key; 0 turns it off. */
  restartHeartbeat(): void {
    this.stopHeartbeat();
    if (this.state !== 'Accepted') return;
    const s = this.ctx.cfg.int('HeartbeatInterval');
    if (s > 0) this.heartbeatTimer = this.ctx.clock.setInterval(() => void this.heartbeat(), s * 1000);
  }

  async heartbeat(): Promise<void> {
    if (this.state !== 'Accepted') return;
    try {
      const conf = await this.ctx.link.call<{ currentTime: string }>('Heartbeat', {});
      this.syncTime(conf.currentTime);
    } catch (err) {
      this.ctx.log.debug('Heartbeat failed', { error: String(err) });
    }
  }

  private syncTime(iso: string): void {
    const t = Date.parse(iso);
    if (Number.isFinite(t)) this.offsetMs = t - this.ctx.clock.now();
  }

  private scheduleRetry(seconds: number): void {
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = this.ctx.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.ctx.link.connected && this.state !== 'offline' && this.state !== 'Accepted') void this.boot();
    }, seconds * 1000);
  }

  private stopHeartbeat(): void {
    this.ctx.clock.clear(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private clearTimers(): void {
    this.stopHeartbeat();
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
  }
}
