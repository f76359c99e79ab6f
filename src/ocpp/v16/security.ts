/**
 * OCPP 1.6 security whitepaper (edition 3) on this station: security events (A04, chapter 8), the
 * AuthorizationKey (A01) and what the link reports about messages that never got through.
 *
 * Events. Every event goes to the security log, which is the daemon's log (journald), never with key
 * material (A01.FR.12). SecurityEventNotification is queued in the durable outbox (A04.FR.02: kept
 * while offline, sent after the next accepted boot) for the critical events of chapter 8 this station
 * can detect (StartupOfTheDevice, ResetOrReboot) and for the two TLS failures the link reports
 * (InvalidCentralSystemCertificate, InvalidTLSVersion: A00.FR.309 / .315 require the event; 2.0.1 made
 * them critical). Non-critical ones (ReconfigurationOfSecurityParameters) are only logged.
 * The station never sets the system clock (SettingSystemTime cannot happen).
 *
 * SecurityEventNotification belongs to the whitepaper, and a Central System without it answers
 * CALLERROR NotImplemented, which the outbox retries (holding back transaction messages) and then
 * dead-letters. So it is sent only when an OCPP security profile (1–3) is configured, i.e. when the
 * station speaks the whitepaper; with profile 0 (bench, no authentication) events are only logged.
 *
 * AuthorizationKey. ChangeConfiguration stores it (SQLite, like the other keys) and answers Accepted;
 * then, with profile 1 or 2, the link reconnects with the new password (A01 steps 3–4; queued messages
 * stay queued). At every start a stored key replaces config.ocpp.password before the first connection.
 */
import type { LinkSecurityEvent, OutboxMessage } from '../link.js';
import type { SecurityEventNotificationRequest } from '../messages/v16.js';
import type { V16Block, V16Context } from './context.js';

export type V16SecurityEvent =
  | 'StartupOfTheDevice'
  | 'ResetOrReboot'
  | 'InvalidCentralSystemCertificate'
  | 'InvalidTLSVersion'
  | 'ReconfigurationOfSecurityParameters';

const PUSHED: ReadonlySet<V16SecurityEvent> = new Set([
  'StartupOfTheDevice',
  'ResetOrReboot',
  'InvalidCentralSystemCertificate',
  'InvalidTLSVersion',
]);

/** The link names events as 2.0.1 does; the whitepaper says Central System. */
const FROM_LINK: Record<LinkSecurityEvent, V16SecurityEvent> = {
  InvalidCsmsCertificate: 'InvalidCentralSystemCertificate',
  InvalidTLSVersion: 'InvalidTLSVersion',
};

const TECH_INFO_MAX = 255;

/** Events of every normal start: logged at info, so a warning in the security log means something. */
const ROUTINE: ReadonlySet<V16SecurityEvent> = new Set(['StartupOfTheDevice', 'ResetOrReboot']);

export class V16Security {
  private started = false;
  /** When this start happened; its event waits for the first connection (see onOpen). */
  private bootAt: number | undefined;

  constructor(
    private readonly ctx: V16Context,
    /** The CSMS transactionId of a station session, if StartTransaction was answered. */
    private readonly transactionIdOf: (sessionId: string) => number | undefined,
  ) {}

  /** Before the link's first connection: apply a stored key, listen to the link (until the adapter stops). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { link, clock } = this.ctx;
    this.bootAt = clock.now();
    this.ctx.onLink('security-event', this.onLinkEvent);
    this.ctx.onLink('message-dead', this.onDead);
    this.ctx.onLink('open', this.onOpen);
    this.ctx.subs.add(() => (this.started = false));
    this.ctx.subs.add(
      this.ctx.cfg.onChange((key, value) => {
        if (this.started && key === 'AuthorizationKey') this.keyChanged(value);
      }),
    );
    await this.applyStoredKey();
    if (link.connected) this.onOpen();
  }

  /** Log a security event and, when it is one the Central System is told about, queue it. */
  report(type: V16SecurityEvent, techInfo?: string, at = this.ctx.clock.now()): void {
    const { ctx } = this;
    // A start or a reset is routine (and the only event of a station without a security profile): info.
    const level = ROUTINE.has(type) ? 'info' : 'warn';
    ctx.log[level](`security event ${type}`, techInfo ? { type, techInfo } : { type });
    if (!PUSHED.has(type) || ctx.config.ocpp.securityProfile < 1) return;
    const payload: SecurityEventNotificationRequest = { type, timestamp: ctx.iso(at) };
    if (techInfo) payload.techInfo = techInfo.slice(0, TECH_INFO_MAX);
    ctx.link.enqueue('SecurityEventNotification', payload);
  }

  /**
   * StartupOfTheDevice or ResetOrReboot, queued on the first connection of this start with the start's
   * time: the adapter starts before the station, which learns only in its own start whether a reset
   * caused this one. The notification goes out after the accepted boot either way.
   */
  private readonly onOpen = (): void => {
    if (this.bootAt === undefined) return;
    const at = this.bootAt;
    this.bootAt = undefined;
    this.guard(() => this.report(this.ctx.station.lastReset?.() ? 'ResetOrReboot' : 'StartupOfTheDevice', undefined, at));
  };

  private readonly onLinkEvent = (type: LinkSecurityEvent, detail: string): void => {
    this.guard(() => this.report(FROM_LINK[type], detail));
  };

  /**
   * The outbox gave up on a message (TransactionMessageAttempts exhausted, or it fails the schema).
   * transactions.ts forgets a dead StopTransaction; a dead StartTransaction leaves the transactionId
   * unknown, so the later messages of that session go with -1 (errata 3.18).
   */
  private readonly onDead = (m: OutboxMessage, error: string): void => {
    this.guard(() => {
      const meta: Record<string, unknown> = { action: m.action, outboxId: m.id, attempts: m.attempts, error };
      if (m.txKey) {
        meta.sessionId = m.txKey;
        meta.transactionId = this.transactionIdOf(m.txKey) ?? -1;
      }
      const note = m.action === 'StartTransaction' ? '; later messages of this transaction carry transactionId -1' : '';
      this.ctx.log.error(`1.6: ${m.action} was never accepted by the Central System; kept in the dead-letter table${note}`, meta);
    });
  };

  private keyChanged(value: string): void {
    const { link, log, config } = this.ctx;
    // A01.FR.11 / .12: the change is logged, the key never.
    this.report('ReconfigurationOfSecurityParameters', 'AuthorizationKey changed');
    const profile = config.ocpp.securityProfile;
    if ((profile !== 1 && profile !== 2) || !link.reconfigure) return;
    const reconfigure = link.reconfigure.bind(link);
    // After the ChangeConfiguration.conf went out.
    this.ctx.defer(async () => {
      if (!this.started) return;
      await reconfigure({ password: value }).catch((err: unknown) =>
        log.error('1.6: the new AuthorizationKey could not be applied; the old password stays in use', { error: String(err) }),
      );
    }, 'applying the new AuthorizationKey');
  }

  private async applyStoredKey(): Promise<void> {
    const { link, log, config, cfg } = this.ctx;
    const key = cfg.get('AuthorizationKey');
    const profile = config.ocpp.securityProfile;
    // Only before the first connection (version 'auto' starts the adapter on an open socket).
    if (!key || key === config.ocpp.password || (profile !== 1 && profile !== 2) || !link.reconfigure || link.protocol !== undefined) return;
    try {
      await link.reconfigure({ password: key });
    } catch (err) {
      log.error('1.6: the stored AuthorizationKey is not usable; connecting with ocpp.password', { error: String(err) });
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log.error('1.6 security: handling a link event failed', { error: String(err) });
    }
  }
}

/** The security block: events, AuthorizationKey, dead messages (registered early: it may reconfigure the link before it connects). */
export const securityBlock: V16Block = {
  name: 'security',
  register: (ctx) => ctx.parts.security.start(),
};
