/**
 * The connection side of the OCPP-J link (./rpc-link.ts): one connection attempt after the other, a
 * fresh client each (./rpc-client.ts), so no state of a dead socket leaks into the next one.
 * - the subprotocol choice ('1.6', '2.0.1' or 'auto': offer both, 2.0.1 first, speak what the CSMS picks)
 *   and a loud error when the CSMS picks none or one we did not offer;
 * - reconnects on the station Clock with capped exponential back-off and jitter (ocpp-rpc's own
 *   reconnect is off: its timers cannot be driven by a test and its randomness cannot be injected);
 * - what a failed attempt means for the operator (HTTP refusals, credentials, TLS) and the security
 *   events it stands for.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { OcppConfig, OcppVersionChoice } from '../config/types.js';
import type { LinkSecurityEvent, LinkStatus, OcppProtocol } from './link.js';
import { connectionTarget, type ConnectionTarget } from './connection-url.js';
import { errorText, isolated, type Client } from './rpc-client.js';
import type { TransportOptions } from './security.js';

export function protocolsFor(version: OcppVersionChoice): OcppProtocol[] {
  if (version === '1.6') return ['ocpp1.6'];
  if (version === '2.0.1') return ['ocpp2.0.1'];
  return ['ocpp2.0.1', 'ocpp1.6'];
}

/**
 * Delay before reconnect attempt number `failures` (0 after a connection that was open):
 * min × 2^failures, capped at max, then "equal jitter" (a random point in the upper half) so a fleet
 * of stations that lost the CSMS together does not come back in one wave.
 */
export function backoffDelayMs(failures: number, minS: number, maxS: number, random: () => number): number {
  const minMs = Math.max(0, minS * 1000);
  const maxMs = Math.max(minMs, maxS * 1000);
  const base = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base / 2 + (base / 2) * r);
}

/**
 * The security event a failed TLS handshake stands for, from Node's error code. Alerts are the CSMS
 * refusing us (e.g. our client certificate): not an invalid CSMS certificate.
 */
export function tlsSecurityEvent(code: unknown): LinkSecurityEvent | undefined {
  if (typeof code !== 'string') return undefined;
  if (/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW/.test(code)) return 'InvalidTLSVersion';
  if (/ALERT/.test(code)) return undefined;
  if (/CERT|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|SELF_SIGNED|ALTNAME/.test(code)) return 'InvalidCsmsCertificate';
  return undefined;
}

/** What an HTTP answer to the WebSocket upgrade means for an OCPP station (OCPP-J §3.2). */
function httpRefusal(status: unknown, target: ConnectionTarget, identity: string, offered: OcppProtocol[]): string | undefined {
  if (status === 400) {
    return `OCPP: the CSMS answered HTTP 400 (Bad Request) to ${target.url}: most often no common OCPP version; offered ${offered.join(', ')}`;
  }
  if (status === 404) {
    const path = new URL(target.endpoint).pathname;
    return `OCPP: the CSMS answered HTTP 404 (Not Found) to ${target.url}: it does not know the identity ${identity}, or ${path} is not its OCPP endpoint`;
  }
  return undefined;
}

const CLOSE_TIMEOUT_MS = 2000;

export interface ConnectionDeps {
  identity: string;
  clock: Clock;
  log: Logger;
  random: () => number;
  /** The settings in force (version, reconnect back-off). */
  settings(): OcppConfig;
  /** The client of one attempt, inbound side wired and handlers registered. */
  makeClient(target: ConnectionTarget, protocols: OcppProtocol[], transport: TransportOptions): Client;
  /** Runs when the CSMS selected a subprotocol, before `opened`. */
  beforeOpen?: (protocol: OcppProtocol) => Promise<void> | void;
  /** The connection is open and set up. */
  opened(protocol: OcppProtocol): void;
  /** The connection is gone (closed by the CSMS or dropped by us): whatever waits on it ends with `why`. */
  lost(why: string): void;
  /** A connection that was open closed. */
  closed(code: number, reason: string): void;
  securityEvent(event: LinkSecurityEvent, message: string): void;
}

export class RpcConnection {
  client: Client | undefined;
  /** The client whose socket is open while beforeOpen runs. */
  private settingUp: Client | undefined;
  opened = false;
  stopped = false;
  transport: TransportOptions | undefined;
  negotiated: OcppProtocol | undefined;
  private failures = 0;
  private reconnectTimer: TimerHandle | undefined;
  /** Security events already reported in the current run of failed connection attempts. */
  private readonly reportedSecurityEvents = new Set<LinkSecurityEvent>();
  /** The URL of the current connection attempt (endpoint, identity, query). */
  private target: ConnectionTarget | undefined;
  private connectedSince: number | undefined;
  private lastError: { at: number; message: string } | undefined;
  private nextRetryAt: number | undefined;
  private attempts = 0;
  private opens = 0;

  constructor(private readonly deps: ConnectionDeps) {}

  get connected(): boolean {
    return this.opened && this.client !== undefined;
  }

  /** The connection part of the link's status. */
  status(): Omit<LinkStatus, 'outbox'> {
    return {
      protocol: this.negotiated,
      connected: this.connected,
      ...(this.connected && this.connectedSince !== undefined ? { connectedSince: this.connectedSince } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      ...(this.reconnectTimer && this.nextRetryAt !== undefined ? { nextRetryAt: this.nextRetryAt } : {}),
      attempts: this.attempts,
      opens: this.opens,
    };
  }

  /** No further attempts (the link is stopping). */
  halt(): void {
    this.stopped = true;
    this.cancelReconnect();
  }

  /** Drop the current connection and connect again at once (new settings). */
  async reconnectNow(reason: string): Promise<void> {
    this.cancelReconnect();
    this.failures = 0;
    await this.drop(1000, reason);
    this.connect();
  }

  /** A sent CALL got no answer in time: the connection is suspect (2.0.1 part 2 §3.2): reconnect. */
  dropSuspect(): void {
    void this.drop(1000, 'call timeout');
    this.scheduleReconnect();
  }

  private cancelReconnect(): void {
    this.deps.clock.clear(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private noteError(message: string): void {
    this.lastError = { at: this.deps.clock.now(), message };
  }

  connect(): void {
    if (this.stopped || !this.transport) return;
    const protocols = protocolsFor(this.deps.settings().version);
    const target = connectionTarget(this.transport.endpoint, this.deps.identity);
    this.target = target;
    const client = this.deps.makeClient(target, protocols, this.transport);
    this.client = client;
    this.opened = false;
    this.attempts++;
    client.on('close', isolated(this.deps.log, 'close', ({ code, reason }: { code: number; reason: string }) => this.onClose(client, code, reason)));
    this.deps.log.debug('OCPP connecting', { url: target.url, protocols });
    client.connect().then(
      () => this.onOpen(client, protocols),
      (err: unknown) => this.onConnectFailed(client, err, protocols),
    );
  }

  private async onOpen(client: Client, offered: OcppProtocol[]): Promise<void> {
    if (client !== this.client || this.stopped) {
      void client.close({ force: true }).catch(() => undefined);
      return;
    }
    const selected = client.protocol;
    if (!selected || !offered.includes(selected as OcppProtocol)) {
      this.noteError(`the CSMS selected subprotocol ${selected ?? '(none)'}, not one offered (${offered.join(', ')})`);
      this.deps.log.error('OCPP: the CSMS selected a subprotocol we did not offer; closing and retrying', {
        selected: selected ?? null,
        offered,
      });
      this.client = undefined;
      void client.close({ code: 1002, reason: 'unexpected subprotocol' }).catch(() => undefined);
      this.failures++;
      this.scheduleReconnect();
      return;
    }
    const protocol = selected as OcppProtocol;
    this.negotiated = protocol;
    this.failures = 0;
    this.reportedSecurityEvents.clear();
    this.deps.log.info('OCPP connected', { url: this.target?.url, protocol });
    if (this.deps.beforeOpen) {
      // The socket is up but 'open' not yet emitted: a close now must still lead to a reconnect.
      this.settingUp = client;
      try {
        await this.deps.beforeOpen(protocol);
      } catch (err) {
        this.deps.log.error('OCPP: starting the adapter failed', { protocol, error: errorText(err) });
      } finally {
        this.settingUp = undefined;
      }
      if (client !== this.client || this.stopped) return;
    }
    this.opened = true;
    this.opens++;
    this.connectedSince = this.deps.clock.now();
    this.deps.opened(protocol);
  }

  private onConnectFailed(client: Client, err: unknown, offered: OcppProtocol[]): void {
    if (client !== this.client) return;
    this.client = undefined;
    const message = errorText(err);
    const status = (err as { code?: unknown }).code;
    // The URL actually requested (identity and query included), so an operator can try it by hand.
    const url = this.target?.url;
    const refusal = this.target ? httpRefusal(status, this.target, this.deps.identity, offered) : undefined;
    this.failures++;
    // Scheduled first, so the log line below can say when the next attempt comes.
    this.scheduleReconnect();
    const retry = this.nextRetryAt !== undefined ? { retryInS: Math.round((this.nextRetryAt - this.deps.clock.now()) / 100) / 10 } : {};
    this.noteError(refusal ?? (status !== undefined && status !== null ? `${message} (${String(status)})` : message));
    const log = this.deps.log;
    if (refusal) {
      log.error(refusal, { url, status, ...retry });
    } else if (/subprotocol/i.test(message)) {
      log.error(`OCPP: no agreed subprotocol (${message}); offered ${offered.join(', ')}`, { url, ...retry });
    } else if (status === 401 || status === 403) {
      log.error('OCPP: the CSMS refused our credentials', { url, status, ...retry });
    } else if (tlsSecurityEvent(status) || /certificate|self.signed|SSL|TLS/i.test(message)) {
      log.error('OCPP: TLS handshake failed (the CSMS certificate is always verified)', { url, error: message, code: status, ...retry });
    } else {
      log.warn('OCPP: connection failed', { url, error: message, status, ...retry });
    }
    const event = tlsSecurityEvent(status);
    if (event && !this.reportedSecurityEvents.has(event)) {
      this.reportedSecurityEvents.add(event);
      this.deps.securityEvent(event, message);
    }
  }

  private onClose(client: Client, code: number, reason: string): void {
    // A failed connect also emits 'close' (before it rejects); onConnectFailed handles that case.
    if (client !== this.client || (!this.opened && this.settingUp !== client)) return;
    const wasOpen = this.opened;
    this.client = undefined;
    this.opened = false;
    this.deps.lost('OCPP link disconnected');
    this.noteError(`disconnected: ${code}${reason ? ` ${reason}` : ''}`);
    this.deps.log.warn('OCPP disconnected', { code, reason });
    if (wasOpen) this.deps.closed(code, reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const { minDelayS, maxDelayS } = this.deps.settings().reconnect;
    const delay = backoffDelayMs(this.failures, minDelayS, maxDelayS, this.deps.random);
    this.deps.log.debug('OCPP reconnect scheduled', { inMs: delay, failures: this.failures });
    this.nextRetryAt = this.deps.clock.now() + delay;
    this.reconnectTimer = this.deps.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.nextRetryAt = undefined;
      this.connect();
    }, delay);
  }

  /** Close the current connection (if any) as the link's own decision: no reconnect follows from it. */
  async drop(code: number, reason: string): Promise<void> {
    const client = this.client;
    const wasOpen = this.opened;
    this.client = undefined;
    this.opened = false;
    this.deps.lost('OCPP connection closed');
    if (!client) return;
    if (wasOpen) this.deps.closed(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    });
    try {
      const closing = client.close({ code, reason }).then(() => undefined, () => undefined);
      await Promise.race([closing, timeout]);
    } finally {
      clearTimeout(timer);
    }
    // The CSMS did not answer the close frame in time: drop the socket.
    void client.close({ force: true }).catch(() => undefined);
  }
}
