/**
 * A04 Security Event Notification, and what the link reports about messages that never got through.
 *
 * Every security event goes to the security log (A04.FR.04), which is the daemon's log (journald),
 * never with key material (A01.FR.12). The critical events of appendix 1 this station can detect are
 * also queued in the durable outbox (A04.FR.01 / .02: kept while offline, sent after the next accepted
 * boot): StartupOfTheDevice or ResetOrReboot at start (TC_A_06, TC_B_20 expect one after the boot),
 * InvalidCsmsCertificate and InvalidTLSVersion from the link (A00.FR.310 / .316, .413 / .419).
 * ReconfigurationOfSecurityParameters (BasicAuthPassword set) is not critical: logged only. A new
 * BasicAuthPassword is applied by reconnecting with it (A01).
 * The station never sets the system clock, so SettingSystemTime cannot happen.
 *
 * Nothing is queued under security profile 0: that is no OCPP 2.0.1 profile, only a bench / closed
 * network setting without any security; its events are logged.
 */
import type { LinkSecurityEvent, OutboxMessage } from '../link.js';
import type { SecurityEventNotificationRequest } from '../messages/v201.js';
import type { V201Context } from './context.js';

export type V201SecurityEvent = LinkSecurityEvent | 'StartupOfTheDevice' | 'ResetOrReboot' | 'ReconfigurationOfSecurityParameters';

const CRITICAL: ReadonlySet<V201SecurityEvent> = new Set([
  'StartupOfTheDevice',
  'ResetOrReboot',
  'InvalidCsmsCertificate',
  'InvalidTLSVersion',
]);

const TECH_INFO_MAX = 255;

/** Events of every normal start: logged at info, so a warning in the security log means something. */
const ROUTINE: ReadonlySet<V201SecurityEvent> = new Set(['StartupOfTheDevice', 'ResetOrReboot']);

export class V201Security {
  /**
   * Notifications queued in this run before the CSMS's time was known (the start event, a TLS failure
   * before the first connection): stamped with station time, told in the CSMS's time when sent.
   */
  private readonly stationTimeIds = new Set<number>();

  constructor(
    private readonly ctx: V201Context,
    /** The security profile of the connection in use (SecurityCtrlr.SecurityProfile). */
    private readonly profile: () => number,
  ) {}

  register(): void {
    const { ctx } = this;
    ctx.onLink('security-event', (type, detail) => this.guard(() => this.report(type, detail)));
    ctx.onLink('message-dead', (m, error) => this.guard(() => this.dead(m, error)));
    ctx.link.setQueuedPreparer('SecurityEventNotification', (m) =>
      this.stationTimeIds.has(m.id) ? { ...m.payload, timestamp: ctx.rebaseIso(m.payload.timestamp) } : m.payload,
    );
    ctx.link.onQueuedResult('SecurityEventNotification', (m) => this.stationTimeIds.delete(m.id));
    ctx.dm.onChange((def, value) => {
      if (ctx.stopped || def.component !== 'SecurityCtrlr' || def.variable !== 'BasicAuthPassword') return;
      this.guard(() => this.passwordChanged(value));
    });
  }

  /**
   * A01 steps 3–4 (TC_A_09): after the SetVariablesResponse went out, reconnect with the new password
   * under profile 1 or 2 (queued messages stay queued; a reconnect is not a boot). At every start the
   * stored password is used too (index.ts applyNetworkProfile).
   */
  private passwordChanged(password: string): void {
    const { ctx } = this;
    // A01.FR.11 / .12: the change is logged, the password never.
    this.report('ReconfigurationOfSecurityParameters', 'BasicAuthPassword changed');
    const profile = this.profile();
    const link = ctx.link;
    if ((profile !== 1 && profile !== 2) || !link.reconfigure) return;
    const reconfigure = link.reconfigure.bind(link);
    ctx.afterResponse(async () => {
      if (ctx.stopped) return;
      await reconfigure({ password });
    });
  }

  /**
   * At start: StartupOfTheDevice or ResetOrReboot, queued on the first connection of this start with
   * the start's time. The adapter starts before the station, which learns only in its own start
   * whether a reset caused this one; the notification goes out after the accepted boot either way.
   */
  startup(): void {
    const at = this.ctx.clock.now();
    let pending = true;
    const opened = (): void => {
      if (!pending) return;
      pending = false;
      this.guard(() => this.report(this.ctx.station.lastReset?.() ? 'ResetOrReboot' : 'StartupOfTheDevice', undefined, at));
    };
    this.ctx.onLink('open', opened);
    if (this.ctx.link.connected) opened();
  }

  /** Log a security event and, when it is critical, queue a SecurityEventNotification. */
  report(type: V201SecurityEvent, techInfo?: string, at = this.ctx.clock.now()): void {
    const { ctx } = this;
    // A start or a reset is routine (and the only event of a station without a security profile): info.
    const level = ROUTINE.has(type) ? 'info' : 'warn';
    ctx.log[level](`security event ${type}`, techInfo ? { type, techInfo } : { type });
    if (!CRITICAL.has(type) || this.profile() < 1) return;
    const payload: SecurityEventNotificationRequest = { type, timestamp: ctx.iso(at) };
    if (techInfo) payload.techInfo = techInfo.slice(0, TECH_INFO_MAX);
    const id = ctx.link.enqueue('SecurityEventNotification', payload);
    if (!ctx.csmsTimeKnown) this.stationTimeIds.add(id);
  }

  /**
   * The outbox gave up on a message (E13 MessageAttempts exhausted, or it fails the schema): it stays in
   * the dead-letter table; transactions.ts moves on to the next seqNo.
   */
  private dead(m: OutboxMessage, error: string): void {
    const meta: Record<string, unknown> = { action: m.action, outboxId: m.id, attempts: m.attempts, error };
    // Raw outbox JSON of any action (a dead letter may predate this code): looked into, not trusted.
    const info = m.payload.transactionInfo;
    if (typeof info === 'object' && info !== null && 'transactionId' in info && typeof info.transactionId === 'string') meta.transactionId = info.transactionId;
    if (m.payload.seqNo !== undefined) meta.seqNo = m.payload.seqNo;
    if (m.payload.eventType !== undefined) meta.eventType = m.payload.eventType;
    this.ctx.log.error(`v201: ${m.action} was never accepted by the CSMS; kept in the dead-letter table`, meta);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log.error('v201 security: handling an event failed', { error: String(err) });
    }
  }
}
