/**
 * The OCPP-J link (contract: ./link.ts) on top of ocpp-rpc's RPCClient, which does the framing, message
 * ids, CALLERRORs, strict schema validation both ways and pings. The parts:
 * - ./rpc-connection.ts: connection attempts, subprotocol choice, reconnects with back-off, what a
 *   failed attempt means;
 * - ./rpc-client.ts: one client per attempt and everything inbound on it (the inbound guard
 *   ./inbound-guard.ts, the message log ./message-log.ts, our handlers of CSMS calls);
 * - this file: the link's API and the send path: our CALLs one in flight (./call-queue.ts), held while a
 *   CSMS call is answered (./call-scope.ts), the durable outbox (./outbox.ts), the security profiles
 *   (./security.ts) and reconfigure() to change them at run time.
 */
import { join } from 'node:path';
import { TypedEmitter } from '../../base/emitter.js';
import type { Logger } from '../../base/logger.js';
import type { Clock } from '../../base/clock.js';
import type { OcppConfig } from '../config/types.js';
import type { Db } from '../store/db.js';
import { OutboxStore, type DeadRow } from '../store/outbox.js';
import type {
  CallHandler,
  LinkEvents,
  LinkSettings,
  LinkStatus,
  OcppLink,
  OcppProtocol,
  OutboxMessage,
} from './link.js';
import { CallScope } from './call-scope.js';
import { CallQueue, callClassOf, type CallClass } from './call-queue.js';
import { MessageLog } from './message-log.js';
import { InvalidMessageError, isBusyError, Outbox, type RetryPolicy } from './outbox.js';
import { createClient, errorText, notSupported, wrapHandler, type Client } from './rpc-client.js';
import { RpcConnection } from './rpc-connection.js';
import { transportOptions, type TransportOptions } from './security.js';
import type { ConnectionTarget } from './connection-url.js';

export { backoffDelayMs, protocolsFor, tlsSecurityEvent } from './rpc-connection.js';

export interface LinkOptions {
  ocpp: OcppConfig;
  /** Charge point identity, appended to the CSMS URL. */
  identity: string;
  /** Where ocpp-messages.log goes; no message log without it. */
  stateDir?: string;
}

export interface LinkDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /**
   * Runs when the CSMS selected a subprotocol, before 'open' is emitted (src/ocpp/index.ts starts the
   * adapter of that version here, so the adapter sees the 'open' it must boot on).
   */
  beforeOpen?: (protocol: OcppProtocol) => Promise<void> | void;
}

/** Settings the connection is made with: changing one means a new connection. */
const CONNECTION_SETTINGS = [
  'version',
  'csmsUrl',
  'securityProfile',
  'password',
  'passwordEncoding',
  'caFile',
  'clientCertFile',
  'clientKeyFile',
] as const satisfies readonly (keyof LinkSettings)[];

export class RpcLink extends TypedEmitter<LinkEvents> implements OcppLink {
  private cfg: OcppConfig;
  private started = false;
  private readonly conn: RpcConnection;
  private readonly handlers = new Map<string, CallHandler>();
  /** Errors of outbound CALLs that our own strict schema check refused (never sent). */
  private readonly refusedLocally = new WeakSet<Error>();
  private readonly frameListeners = new Set<(dir: 'in' | 'out', text: string) => void>();
  /** Ids of our calls that timed out, newest last (bounded). */
  private readonly abandonedIds: string[] = [];
  private readonly store: OutboxStore;
  private readonly outbox: Outbox;
  /** Our CALLs: one in flight, the rest by class (./call-queue.ts), time-outs on the station Clock. */
  private readonly calls: CallQueue;
  private readonly messageLog: MessageLog | undefined;
  /** Outgoing CALLs wait while a CSMS call is being answered (./call-scope.ts). */
  private readonly scope: CallScope;

  constructor(
    private readonly opts: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    super(deps.log);
    this.cfg = { ...opts.ocpp };
    this.conn = new RpcConnection({
      identity: opts.identity,
      clock: deps.clock,
      log: deps.log,
      random: deps.random ?? Math.random,
      settings: () => this.cfg,
      makeClient: (target, protocols, transport) => this.makeClient(target, protocols, transport),
      ...(deps.beforeOpen ? { beforeOpen: deps.beforeOpen } : {}),
      opened: (protocol) => {
        // The outbox takes its place in the call queue before anything the adapters send on 'open'.
        this.outbox.kick();
        this.safeEmit('open', protocol);
      },
      lost: (why) => {
        this.scope.clear();
        this.calls.rejectAll(why);
      },
      closed: (code, reason) => this.safeEmit('close', code, reason),
      securityEvent: (event, message) => this.safeEmit('security-event', event, message),
    });
    this.scope = new CallScope(deps.clock, deps.log, () => this.cfg.callTimeoutS * 1000);
    this.store = new OutboxStore(deps.db);
    this.calls = new CallQueue({
      clock: deps.clock,
      timeoutMs: () => this.cfg.callTimeoutS * 1000,
      transmit: (action, payload, signal) => this.transmit(action, payload, signal),
      onSentTimeout: (action) => this.onCallTimedOut(action),
    });
    this.outbox = new Outbox({
      store: this.store,
      clock: deps.clock,
      log: deps.log,
      send: (action, payload, transaction) => this.sendQueued(action, payload, transaction),
      connected: () => this.connected,
      onDead: (message, error) => this.safeEmit('message-dead', message, error),
      retry: { attempts: opts.ocpp.outbox.retryAttempts, intervalS: opts.ocpp.outbox.retryIntervalS },
      busy: { delayS: opts.ocpp.outbox.busyRetryDelayS ?? 2, max: opts.ocpp.outbox.busyRetries ?? 5 },
    });
    if (opts.stateDir && opts.ocpp.messageLog.enabled) {
      this.messageLog = new MessageLog({
        path: join(opts.stateDir, 'ocpp-messages.log'),
        maxBytes: opts.ocpp.messageLog.maxBytes,
        files: opts.ocpp.messageLog.files,
        now: () => deps.clock.now(),
      });
    }
  }

  get protocol(): OcppProtocol | undefined {
    return this.conn.negotiated;
  }

  get connected(): boolean {
    return this.conn.connected;
  }

  /** The settings in force (password included: do not log this object). */
  get settings(): Readonly<OcppConfig> {
    return this.cfg;
  }

  /** Throws SecurityConfigError when URL, profile and credentials do not fit together. */
  async start(): Promise<void> {
    if (this.started) return;
    this.conn.transport = transportOptions(this.cfg, this.deps.log);
    this.started = true;
    this.conn.stopped = false;
    this.outbox.logState();
    this.conn.connect();
  }

  async stop(): Promise<void> {
    this.conn.halt();
    this.outbox.stop();
    await this.conn.drop(1000, 'station stopping');
    this.messageLog?.close();
  }

  /**
   * Change URL, security profile, credentials, version or timing at run time: the new settings are
   * checked first (a bad combination throws and changes nothing). A change of anything the connection
   * is made with reconnects at once; timing alone (ping interval, call timeout, back-off, retries)
   * applies to the open connection without a reconnect.
   */
  async reconfigure(changes: LinkSettings): Promise<void> {
    const next: OcppConfig = { ...this.cfg, ...changes };
    const transport = transportOptions(next, this.deps.log);
    // Certificate files may have new contents under the same name (renewal): naming one reconnects.
    const reconnect = CONNECTION_SETTINGS.some((k) => k in changes && (changes[k] !== this.cfg[k] || /File$/.test(k)));
    this.cfg = next;
    this.conn.transport = transport;
    if (changes.outbox) this.outbox.setRetryPolicy({ attempts: next.outbox.retryAttempts, intervalS: next.outbox.retryIntervalS });
    if (!reconnect) {
      // The call time-out is ours (CallQueue reads cfg.callTimeoutS for every new CALL).
      this.conn.client?.reconfigure({ callTimeoutMs: 0, pingIntervalMs: next.pingIntervalS * 1000 });
      this.deps.log.info('OCPP link timing changed', { callTimeoutS: next.callTimeoutS, pingIntervalS: next.pingIntervalS });
      return;
    }
    this.deps.log.info('OCPP link reconfigured' + (this.started ? ', reconnecting' : ''), {
      csmsUrl: transport.endpoint,
      securityProfile: next.securityProfile,
      version: next.version,
    });
    if (!this.started || this.conn.stopped) return;
    await this.conn.reconnectNow('reconfigured');
  }

  setRetryPolicy(policy: RetryPolicy): void {
    this.outbox.setRetryPolicy(policy);
  }

  async call<T = unknown>(action: string, payload: object): Promise<T> {
    const cls = callClassOf(action);
    try {
      return (await this.callAs(action, payload, cls)) as T;
    } catch (err) {
      // A CSMS call that crossed ours on the wire makes a CSMS such as CitrineOS answer "Call already in
      // progress": the CALL was not processed, so it is no refusal. Someone waits for an urgent one (a
      // driver's Authorize): ask once more (after our answer, ./call-scope.ts). Outbox messages have
      // their own busy rule; status traffic is not re-sent, as a retry would land after newer statuses.
      if (cls !== 'urgent' || !isBusyError(err)) throw err;
      this.deps.log.info('OCPP: the CSMS was busy; asking once more', { action, error: errorText(err) });
      return (await this.callAs(action, payload, cls)) as T;
    }
  }

  private async callAs(action: string, payload: object, cls: CallClass): Promise<unknown> {
    // What a CSMS call causes goes after its answer (./call-scope.ts): held before it joins the queue.
    if (this.scope.holding) await this.scope.idle();
    if (!this.conn.connected) throw new Error(`OCPP link not connected: ${action} not sent`);
    const result = await this.calls.push(action, payload, cls);
    if (action === 'BootNotification' && (result as { status?: unknown } | undefined)?.status === 'Accepted') {
      // Dead letters get another chance after each accepted boot, before the adapter opens the outbox.
      this.outbox.reviveDead('after an accepted BootNotification');
    }
    return result;
  }

  /** One CALL on the current connection (CallQueue makes sure it is the only one in flight). */
  private async transmit(action: string, payload: object, signal: AbortSignal): Promise<unknown> {
    const client = this.conn.client;
    if (!client || !this.conn.opened) throw new Error(`OCPP link not connected: ${action} not sent`);
    return client.call(action, payload, { signal });
  }

  /** A sent CALL got no answer in time: the connection is suspect (2.0.1 part 2 §3.2): reconnect. */
  private onCallTimedOut(action: string): void {
    if (this.conn.stopped || !this.conn.connected) return;
    this.deps.log.warn('OCPP: no answer within the call timeout; dropping the connection and reconnecting', {
      action,
      callTimeoutS: this.cfg.callTimeoutS,
    });
    this.conn.dropSuspect();
  }

  /** Sends a message of the outbox; `transaction` puts it in the urgent class. */
  private async sendQueued(action: string, payload: Record<string, unknown>, transaction: boolean): Promise<unknown> {
    try {
      return await this.callAs(action, payload, callClassOf(action, transaction));
    } catch (err) {
      if (err instanceof Error && this.refusedLocally.has(err)) {
        throw new InvalidMessageError(err.message, this.conn.negotiated ?? 'unknown');
      }
      throw err;
    }
  }

  enqueue(action: string, payload: Record<string, unknown>, opts?: { txKey?: string }): number {
    return this.outbox.enqueue(action, payload, opts?.txKey);
  }

  onQueuedResult(action: string, fn: (message: OutboxMessage, response: unknown) => void): void {
    this.outbox.onResult(action, fn);
  }

  setQueuedPreparer(action: string, fn: (message: OutboxMessage) => Record<string, unknown>): void {
    this.outbox.setPreparer(action, fn);
  }

  handle(action: string, handler: CallHandler): void {
    this.handlers.set(action, handler);
    this.conn.client?.handle(action, wrapHandler(this.scope, handler));
  }

  setReady(ready: boolean): void {
    this.outbox.setReady(ready);
  }

  pendingCount(): number {
    return this.outbox.pendingCount();
  }

  /** Observe every frame in and out (tools and benches; the message log is the durable record). */
  onFrame(listener: (dir: 'in' | 'out', text: string) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** Forget every CSMS-call handler (when one version adapter replaces the other). */
  clearHandlers(): void {
    this.handlers.clear();
    this.conn.client?.removeAllHandlers();
    this.conn.client?.handle(notSupported);
  }

  /** For the operator (src/http): connection state, last error, next retry, outbox depth. */
  status(): LinkStatus {
    const head = this.store.head();
    return {
      ...this.conn.status(),
      outbox: {
        depth: this.store.count(),
        ...(head ? { oldestCreatedAt: head.createdAt } : {}),
        deadLetters: this.store.deadCount(),
      },
    };
  }

  /** Messages that exhausted their attempts (never deleted by the link). */
  deadLetters(): DeadRow[] {
    return this.store.dead();
  }

  /** Look at the queue again now (e.g. `ocpp-station outbox replay` wrote to it from another process). */
  kickOutbox(): void {
    this.outbox.kick();
  }

  /** Actions of our CALLs waiting behind the one in flight, in send order (tests, diagnostics). */
  waitingCalls(): string[] {
    return this.calls.waitingActions();
  }

  /**
   * A listener's exception must never escape into ocpp-rpc's or ws's callbacks, where it would take
   * the process down or leave the link half-updated: the base emitter isolates and logs it.
   */
  private safeEmit<K extends keyof LinkEvents & string>(event: K, ...args: LinkEvents[K]): void {
    this.emit(event, ...args);
  }

  /** The client of one connection attempt: inbound side wired, our handlers registered. */
  private makeClient(target: ConnectionTarget, protocols: OcppProtocol[], transport: TransportOptions): Client {
    const client = createClient(
      { identity: this.opts.identity, target, transport, protocols, pingIntervalS: this.cfg.pingIntervalS, maxFrameBytes: this.cfg.maxFrameBytes },
      {
        log: this.deps.log,
        messageLog: this.messageLog,
        frameListeners: this.frameListeners,
        refusedLocally: this.refusedLocally,
        abandonedIds: this.abandonedIds,
        written: (from, messageId) => {
          if (from === this.conn.client) this.scope.written(messageId);
        },
      },
    );
    client.handle(notSupported);
    for (const [action, handler] of this.handlers) client.handle(action, wrapHandler(this.scope, handler));
    return client;
  }
}

export function createLink(opts: LinkOptions, deps: LinkDeps): RpcLink {
  return new RpcLink(opts, deps);
}
