/**
 * Registration with the Central System (spec 4.2), the heartbeat (4.6) and Reset (5.19).
 *
 * BootNotification goes out each time the link opens. Until it is Accepted nothing else is sent:
 * the outbox stays closed (link.setReady(false)) and the other parts check the gate before sending.
 * Pending / Rejected: retry after the interval the CSMS gave (DEFAULT_RETRY_S when it gave 0).
 * In Pending the CSMS may call us (the handlers answer); in Rejected the gate refuses its calls.
 *
 * Time: the CSMS's currentTime sets the kit's CSMS time offset (never the system clock).
 *
 * Heartbeat: sent every HeartbeatInterval seconds while Accepted, whatever other traffic there was.
 * Spec 4.6 allows skipping it after other traffic; we do not, so that the clock offset is refreshed
 * at a known rate and the CSMS sees a regular beat (one small frame per interval is cheap).
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { BootNotificationRequest } from '../messages/v16.js';
import type { RegistrationState, V16Block, V16Context } from './context.js';

const DEFAULT_RETRY_S = 60;

const cut = (s: string | undefined, n: number): string | undefined => (s === undefined || s === '' ? undefined : s.slice(0, n));

export class Registration {
  private retryTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private booting = false;
  private readonly acceptedListeners: (() => void)[] = [];

  constructor(private readonly ctx: V16Context) {}

  get state(): RegistrationState {
    return this.ctx.gate.state;
  }

  /**
   * Called after each accepted BootNotification, before the outbox opens (present statuses first,
   * errata 3.22). Returns what removes the listener.
   */
  onAccepted(fn: () => void): () => void {
    this.acceptedListeners.push(fn);
    return () => {
      const i = this.acceptedListeners.indexOf(fn);
      if (i >= 0) this.acceptedListeners.splice(i, 1);
    };
  }

  linkOpened(): void {
    this.ctx.gate.set('booting');
    void this.boot();
  }

  linkClosed(): void {
    this.ctx.gate.set('offline');
    this.ctx.link.setReady(false);
    this.clearTimers();
  }

  stop(): void {
    this.clearTimers();
  }

  /** Send BootNotification now (on open, on retry, or on TriggerMessage while Pending). */
  async boot(): Promise<void> {
    if (this.booting) return;
    const { link, config, clock, log, gate } = this.ctx;
    this.ctx.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
    this.booting = true;
    const st = config.station;
    const req: BootNotificationRequest = { chargePointVendor: st.vendor.slice(0, 20), chargePointModel: st.model.slice(0, 20) };
    const serial = cut(st.serialNumber, 25);
    if (serial) req.chargePointSerialNumber = serial;
    const fw = cut(st.firmwareVersion, 50);
    if (fw) req.firmwareVersion = fw;
    let conf;
    try {
      conf = await link.call('BootNotification', req);
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
      this.ctx.csmsTime.learn(conf.currentTime);
      gate.set('Accepted');
      if (conf.interval > 0) this.ctx.cfg.setInternal('HeartbeatInterval', String(conf.interval), clock.now());
      this.restartHeartbeat();
      // Present statuses (errata 3.22), then open the outbox; the link's send order puts the
      // transaction messages queued while offline before the statuses (src/ocpp/call-queue.ts).
      for (const fn of [...this.acceptedListeners]) {
        try {
          fn();
        } catch (err) {
          log.error('work after an accepted BootNotification failed', { error: String(err) });
        }
      }
      link.setReady(true);
    } else {
      gate.set(conf.status);
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
      const conf = await this.ctx.link.call('Heartbeat', {});
      this.ctx.csmsTime.learn(conf.currentTime);
    } catch (err) {
      this.ctx.log.debug('Heartbeat failed', { error: String(err) });
    }
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

/**
 * The boot block: BootNotification on every open (registered last, so the other blocks' reactions to
 * an open, e.g. the security event of this start, come first), HeartbeatInterval, Reset.
 */
export const bootBlock: V16Block = {
  name: 'boot',
  register(ctx) {
    const { registration } = ctx.parts;
    ctx.onLink('open', () => registration.linkOpened());
    ctx.onLink('close', () => registration.linkClosed());
    ctx.subs.add(() => registration.stop());
    ctx.subs.add(ctx.cfg.onChange((key) => key === 'HeartbeatInterval' && registration.restartHeartbeat()));

    ctx.handle('Reset', ({ type }) => {
      // §5.19: an installation under way is not cut; the Central System may ask again once it ended.
      if (ctx.parts.firmware.installing) {
        ctx.log.warn('1.6 Reset rejected: a firmware installation is under way');
        return { status: 'Rejected' };
      }
      return { status: ctx.station.reset(type) === 'Rejected' ? 'Rejected' : 'Accepted' };
    });

    if (ctx.link.connected) registration.linkOpened();
  },
};
