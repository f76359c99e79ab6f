/**
 * The OCPP-J link (contract: ./link.ts) on top of ocpp-rpc's RPCClient, which does the framing, message
 * ids, CALLERRORs, strict schema validation both ways and pings. What this file adds:
 * - the subprotocol choice ('1.6', '2.0.1' or 'auto': offer both, 2.0.1 first, speak what the CSMS picks)
 *   and a loud error when the CSMS picks none or one we did not offer;
 * - reconnects on the station Clock with capped exponential back-off and jitter (ocpp-rpc's own
 *   reconnect is off: its timers cannot be driven by a test and its randomness cannot be injected);
 * - the security profiles (./security.ts) and reconfigure() to change them at run time;
 * - the durable outbox (./outbox.ts) and the message log (./message-log.ts);
 * - the inbound guard (./inbound-guard.ts): size and depth limits in front of ocpp-rpc's parser and
 *   CALLERROR codes per version (./callerror.ts); every listener on the client is isolated.
 * A fresh RPCClient is made for every connection attempt, so no state of a dead socket leaks into
 * the next one.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { RPCClient, createRPCError } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../../base/clock.js';
import { TypedEmitter } from '../../base/emitter.js';
import type { Logger } from '../../base/logger.js';
import type { OcppConfig, OcppVersionChoice } from '../config/types.js';
import type { Db } from '../store/db.js';
import { OutboxStore, type DeadRow } from '../store/outbox.js';
import type {
  CallHandler,
  LinkEvents,
  LinkSecurityEvent,
  LinkSettings,
  LinkStatus,
  OcppLink,
  OcppProtocol,
  OutboxMessage,
} from './link.js';
import { CallScope } from './call-scope.js';
import { ocppValidators, smallDetails } from './callerror.js';
import { connectionTarget, type ConnectionTarget } from './connection-url.js';
import { WS_BUFFER_FACTOR } from './frame-guard.js';
import { guardInbound, type GuardedClient } from './inbound-guard.js';
import { CallQueue, callClassOf, type CallClass } from './call-queue.js';
import { MessageLog } from './message-log.js';
import { InvalidMessageError, isBusyError, Outbox, type RetryPolicy } from './outbox.js';
import { transportOptions, type TransportOptions } from './security.js';

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

type RpcCall = { params: unknown; messageId: string; method: string };

/** ocpp-rpc's client, typed as far as it is used here. */
interface Client extends GuardedClient {
  readonly protocol: string | undefined;
  connect(): Promise<unknown>;
  close(opts?: { code?: number; reason?: string; force?: boolean }): Promise<unknown>;
  call(method: string, params: unknown, options?: { signal?: AbortSignal }): Promise<unknown>;
  handle(method: string, fn: (call: RpcCall) => Promise<unknown>): void;
  /** The wildcard handler: actions without their own handler. */
  handle(fn: (call: RpcCall) => Promise<unknown>): void;
  removeAllHandlers(): void;
  reconfigure(options: { callTimeoutMs: number; pingIntervalMs: number }): void;
  on(event: string, fn: (arg: never) => void): void;
}

const CLOSE_TIMEOUT_MS = 2000;

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

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ocpp-rpc spreads its error classes into module.exports, which ESM cannot see as named exports.
const { TimeoutError } = createRequire(import.meta.url)('ocpp-rpc') as { TimeoutError: new () => Error };

/** Message ids of our timed-out calls remembered, to recognise a late answer (a debug line, not a warning). */
const ABANDONED_IDS_KEPT = 64;

/**
 * Actions of the negotiated version that no adapter handles: NotSupported ("recognized but not
 * supported", TC_K_15). An action the version does not define never gets here: the schema check
 * (./callerror.ts) answers it NotImplemented.
 */
async function notSupported({ method }: RpcCall): Promise<never> {
  throw createRPCError('NotSupported', `${method} is not supported by this station`, {});
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

export class RpcLink extends TypedEmitter<LinkEvents> implements OcppLink {
  private cfg: OcppConfig;
  private transport: TransportOptions | undefined;
  private client: Client | undefined;
  /** The client whose socket is open while beforeOpen runs. */
  private settingUp: Client | undefined;
  private opened = false;
  private started = false;
  private stopped = false;
  private failures = 0;
  private reconnectTimer: TimerHandle | undefined;
  private negotiated: OcppProtocol | undefined;
  private readonly handlers = new Map<string, CallHandler>();
  /** Errors of outbound CALLs that our own strict schema check refused (never sent). */
  private readonly refusedLocally = new WeakSet<Error>();
  /** Security events already reported in the current run of failed connection attempts. */
  private readonly reportedSecurityEvents = new Set<LinkSecurityEvent>();
  private readonly frameListeners = new Set<(dir: 'in' | 'out', text: string) => void>();
  /** The URL of the current connection attempt (endpoint, identity, query). */
  private target: ConnectionTarget | undefined;
  /** Ids of our calls that timed out, newest last (bounded). */
  private readonly abandonedIds: string[] = [];
  private readonly store: OutboxStore;
  private readonly outbox: Outbox;
  /** Our CALLs: one in flight, the rest by class (./call-queue.ts), time-outs on the station Clock. */
  private readonly calls: CallQueue;
  private readonly messageLog: MessageLog | undefined;
  private readonly random: () => number;
  /** Outgoing CALLs wait while a CSMS call is being answered (./call-scope.ts). */
  private readonly scope: CallScope;
  private connectedSince: number | undefined;
  private lastError: { at: number; message: string } | undefined;
  private nextRetryAt: number | undefined;
  private attempts = 0;
  private opens = 0;

  constructor(
    private readonly opts: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    super(deps.log);
    this.cfg = { ...opts.ocpp };
    this.random = deps.random ?? Math.random;
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
    return this.negotiated;
  }

  get connected(): boolean {
    return this.opened && this.client !== undefined;
  }

  /** The settings in force (password included: do not log this object). */
  get settings(): Readonly<OcppConfig> {
    return this.cfg;
  }

  /** Throws SecurityConfigError when URL, profile and credentials do not fit together. */
  async start(): Promise<void> {
    if (this.started) return;
    this.transport = transportOptions(this.cfg, this.deps.log);
    this.started = true;
    this.stopped = false;
    this.outbox.logState();
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.clock.clear(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.outbox.stop();
    await this.dropClient(1000, 'station stopping');
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
    this.transport = transport;
    if (changes.outbox) this.outbox.setRetryPolicy({ attempts: next.outbox.retryAttempts, intervalS: next.outbox.retryIntervalS });
    if (!reconnect) {
      // The call time-out is ours (CallQueue reads cfg.callTimeoutS for every new CALL).
      this.client?.reconfigure({ callTimeoutMs: 0, pingIntervalMs: next.pingIntervalS * 1000 });
      this.deps.log.info('OCPP link timing changed', { callTimeoutS: next.callTimeoutS, pingIntervalS: next.pingIntervalS });
      return;
    }
    this.deps.log.info('OCPP link reconfigured' + (this.started ? ', reconnecting' : ''), {
      csmsUrl: transport.endpoint,
      securityProfile: next.securityProfile,
      version: next.version,
    });
    if (!this.started || this.stopped) return;
    this.deps.clock.clear(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failures = 0;
    await this.dropClient(1000, 'reconfigured');
    this.connect();
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
    if (!this.client || !this.opened) throw new Error(`OCPP link not connected: ${action} not sent`);
    const result = await this.calls.push(action, payload, cls);
    if (action === 'BootNotification' && (result as { status?: unknown } | undefined)?.status === 'Accepted') {
      // Dead letters get another chance after each accepted boot, before the adapter opens the outbox.
      this.outbox.reviveDead('after an accepted BootNotification');
    }
    return result;
  }

  /** One CALL on the current connection (CallQueue makes sure it is the only one in flight). */
  private async transmit(action: string, payload: object, signal: AbortSignal): Promise<unknown> {
    const client = this.client;
    if (!client || !this.opened) throw new Error(`OCPP link not connected: ${action} not sent`);
    return client.call(action, payload, { signal });
  }

  /** A sent CALL got no answer in time: the connection is suspect (2.0.1 part 2 §3.2): reconnect. */
  private onCallTimedOut(action: string): void {
    if (this.stopped || !this.client || !this.opened) return;
    this.deps.log.warn('OCPP: no answer within the call timeout; dropping the connection and reconnecting', {
      action,
      callTimeoutS: this.cfg.callTimeoutS,
    });
    void this.dropClient(1000, 'call timeout');
    this.scheduleReconnect();
  }

  /** Sends a message of the outbox; `transaction` puts it in the urgent class. */
  private async sendQueued(action: string, payload: Record<string, unknown>, transaction: boolean): Promise<unknown> {
    try {
      return await this.callAs(action, payload, callClassOf(action, transaction));
    } catch (err) {
      if (err instanceof Error && this.refusedLocally.has(err)) {
        throw new InvalidMessageError(err.message, this.negotiated ?? 'unknown');
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
    this.client?.handle(action, this.wrap(handler));
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
    this.client?.removeAllHandlers();
    this.client?.handle(notSupported);
  }

  /** For the operator (src/http): connection state, last error, next retry, outbox depth. */
  status(): LinkStatus {
    const head = this.store.head();
    return {
      protocol: this.negotiated,
      connected: this.connected,
      ...(this.connected && this.connectedSince !== undefined ? { connectedSince: this.connectedSince } : {}),
      ...(this.lastError ? { lastError: { ...this.lastError } } : {}),
      ...(this.reconnectTimer && this.nextRetryAt !== undefined ? { nextRetryAt: this.nextRetryAt } : {}),
      attempts: this.attempts,
      opens: this.opens,
      outbox: {
        depth: this.store.count(),
        ...(head ? { oldestCreatedAt: head.createdAt } : {}),
        deadLetters: this.store.deadCount(),
      },
    };
  }

  private noteError(message: string): void {
    this.lastError = { at: this.deps.clock.now(), message };
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

  private wrap(handler: CallHandler) {
    return async ({ params, messageId, method }: RpcCall) => {
      const scope = this.scope.enter(messageId, method);
      try {
        return await handler(params, { action: method, messageId });
      } catch (err) {
        // ocpp-rpc serialises the details into the CALLERROR; details it cannot serialise would close
        // the connection ("Unable to send call result"), so they are kept small and plain.
        if (err !== null && typeof err === 'object' && 'details' in err) (err as { details: unknown }).details = smallDetails(err.details);
        throw err;
      } finally {
        this.scope.answered(scope);
      }
    };
  }

  /** Run a listener of the client so that nothing it throws reaches ocpp-rpc or ws. */
  private isolated<A>(what: string, fn: (arg: A) => void): (arg: A) => void {
    return (arg: A) => {
      try {
        fn(arg);
      } catch (err) {
        this.deps.log.error(`OCPP link: handling '${what}' failed`, { error: errorText(err) });
      }
    };
  }

  private connect(): void {
    if (this.stopped || !this.transport) return;
    const t = this.transport;
    const protocols = protocolsFor(this.cfg.version);
    const target = connectionTarget(t.endpoint, this.opts.identity);
    this.target = target;
    const maxFrameBytes = this.cfg.maxFrameBytes;
    const client = new RPCClient({
      identity: this.opts.identity,
      endpoint: target.endpoint,
      ...(target.query ? { query: target.query } : {}),
      // ocpp-rpc sends a Buffer password as raw bytes (its types only say string).
      password: t.password as string | null,
      // ws reads no more than this of one message (also after decompression), then closes with 1009.
      wsOpts: { ...t.wsOpts, maxPayload: maxFrameBytes * WS_BUFFER_FACTOR },
      headers: {},
      protocols,
      strictMode: true,
      // Same shape as ocpp-rpc's Validator class (subprotocol, validate); its typings want the class.
      strictModeValidators: ocppValidators() as never[],
      reconnect: false,
      maxReconnects: 0,
      callTimeoutMs: 0, // ours, on the station Clock (./call-queue.ts)
      pingIntervalMs: this.cfg.pingIntervalS * 1000,
      deferPingsOnActivity: false,
      respondWithDetailedErrors: false,
      callConcurrency: 1,
      maxBadMessages: Infinity,
      backoff: { initialDelay: 1000, maxDelay: 2000, factor: 2, randomisationFactor: 0 }, // unused: reconnect is ours
    }) as unknown as Client;
    this.client = client;
    this.opened = false;
    this.attempts++;
    guardInbound(client, {
      maxFrameBytes,
      log: this.deps.log,
      onHeld: (held) =>
        this.messageLog?.writeHeld('in', {
          reason: held.reason,
          bytes: held.bytes,
          messageId: held.head.messageId ?? null,
          answered: held.answered ?? null,
        }),
    });
    client.handle(notSupported);
    for (const [action, handler] of this.handlers) client.handle(action, this.wrap(handler));
    client.on('message', this.isolated('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
      const dir = outbound ? 'out' : 'in';
      this.messageLog?.write(dir, message);
      for (const l of this.frameListeners) {
        try {
          l(dir, message);
        } catch (err) {
          this.deps.log.error('OCPP frame listener failed', { error: errorText(err) });
        }
      }
    }));
    client.on('callError', this.isolated('callError', ({ outbound, messageId, error }: { outbound: boolean; messageId: string; error: unknown }) => {
      // Ours time out on the station Clock (./call-queue.ts) and are aborted: AbortError, not TimeoutError.
      if (!outbound || !(error instanceof TimeoutError || (error instanceof Error && error.name === 'AbortError'))) return;
      this.abandonedIds.push(messageId);
      if (this.abandonedIds.length > ABANDONED_IDS_KEPT) this.abandonedIds.shift();
    }));
    client.on('badMessage', this.isolated('badMessage', ({ error, response }: { error: Error & { details?: { msgId?: unknown } }; response: unknown[] | null }) => {
      const id = error.details?.msgId;
      if (!response && typeof id === 'string' && /unrecognised message ID/.test(error.message)) {
        // A CALLRESULT / CALLERROR with no call waiting for it: never answered (OCPP-J).
        if (this.abandonedIds.includes(id)) {
          this.deps.log.debug('OCPP: late answer to a call that had timed out; ignored', { messageId: id });
        } else {
          this.deps.log.warn('OCPP: the CSMS answered a call we never made (unknown message id); ignored', { messageId: id });
        }
        return;
      }
      this.deps.log.warn(`OCPP: malformed frame from the CSMS ${response ? 'answered with a CALLERROR' : 'ignored'}`, { error: errorText(error) });
    }));
    client.on('strictValidationFailure', this.isolated('strictValidationFailure', ({ method, outbound, isCall, error }: { method: string; outbound: boolean; isCall: boolean; error: Error }) => {
      // ocpp-rpc reports our own CALL refused by the schema here, then throws this same error.
      if (outbound && isCall) this.refusedLocally.add(error);
      this.deps.log.warn('OCPP: message failed schema validation', {
        action: method,
        direction: outbound ? 'out' : 'in',
        kind: isCall ? 'call' : 'result',
        error: errorText(error),
      });
    }));
    // Emitted for our answer to a CSMS call just before ocpp-rpc writes it, in the same synchronous
    // run (client.js _onCall: emit('response') then sendRaw → ws.send): what the scope releases can
    // only run after that, so it reaches the socket after the answer.
    // ocpp-rpc also emits it for a late answer to a closed connection: that one releases nothing.
    client.on('response', this.isolated('response', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
      if (outbound && client === this.client && typeof payload[1] === 'string') this.scope.written(payload[1]);
    }));
    client.on('socketError', this.isolated('socketError', (err: Error & { code?: unknown }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.deps.log.warn(`OCPP: the CSMS sent a message of more than ${maxFrameBytes * WS_BUFFER_FACTOR} bytes; the connection is closed (1009 Message Too Big) and made again`, {
          maxFrameBytes,
        });
        return;
      }
      this.deps.log.debug('OCPP socket error', { error: errorText(err) });
    }));
    client.on('close', this.isolated('close', ({ code, reason }: { code: number; reason: string }) => this.onClose(client, code, reason)));
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
    // The outbox takes its place in the call queue before anything the adapters send on 'open'.
    this.outbox.kick();
    this.safeEmit('open', protocol);
  }

  private onConnectFailed(client: Client, err: unknown, offered: OcppProtocol[]): void {
    if (client !== this.client) return;
    this.client = undefined;
    const message = errorText(err);
    const status = (err as { code?: unknown }).code;
    // The URL actually requested (identity and query included), so an operator can try it by hand.
    const url = this.target?.url;
    const refusal = this.target ? httpRefusal(status, this.target, this.opts.identity, offered) : undefined;
    this.failures++;
    // Scheduled first, so the log line below can say when the next attempt comes.
    this.scheduleReconnect();
    const retry = this.nextRetryAt !== undefined ? { retryInS: Math.round((this.nextRetryAt - this.deps.clock.now()) / 100) / 10 } : {};
    this.noteError(refusal ?? (status !== undefined && status !== null ? `${message} (${String(status)})` : message));
    if (refusal) {
      this.deps.log.error(refusal, { url, status, ...retry });
    } else if (/subprotocol/i.test(message)) {
      this.deps.log.error(`OCPP: no agreed subprotocol (${message}); offered ${offered.join(', ')}`, { url, ...retry });
    } else if (status === 401 || status === 403) {
      this.deps.log.error('OCPP: the CSMS refused our credentials', { url, status, ...retry });
    } else if (tlsSecurityEvent(status) || /certificate|self.signed|SSL|TLS/i.test(message)) {
      this.deps.log.error('OCPP: TLS handshake failed (the CSMS certificate is always verified)', { url, error: message, code: status, ...retry });
    } else {
      this.deps.log.warn('OCPP: connection failed', { url, error: message, status, ...retry });
    }
    const event = tlsSecurityEvent(status);
    if (event && !this.reportedSecurityEvents.has(event)) {
      this.reportedSecurityEvents.add(event);
      this.safeEmit('security-event', event, message);
    }
  }

  private onClose(client: Client, code: number, reason: string): void {
    // A failed connect also emits 'close' (before it rejects); onConnectFailed handles that case.
    if (client !== this.client || (!this.opened && this.settingUp !== client)) return;
    const wasOpen = this.opened;
    this.client = undefined;
    this.opened = false;
    this.scope.clear();
    this.calls.rejectAll('OCPP link disconnected');
    this.noteError(`disconnected: ${code}${reason ? ` ${reason}` : ''}`);
    this.deps.log.warn('OCPP disconnected', { code, reason });
    if (wasOpen) this.safeEmit('close', code, reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const { minDelayS, maxDelayS } = this.cfg.reconnect;
    const delay = backoffDelayMs(this.failures, minDelayS, maxDelayS, this.random);
    this.deps.log.debug('OCPP reconnect scheduled', { inMs: delay, failures: this.failures });
    this.nextRetryAt = this.deps.clock.now() + delay;
    this.reconnectTimer = this.deps.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.nextRetryAt = undefined;
      this.connect();
    }, delay);
  }

  /** Close the current connection (if any) as the link's own decision: no reconnect follows from it. */
  private async dropClient(code: number, reason: string): Promise<void> {
    const client = this.client;
    const wasOpen = this.opened;
    this.client = undefined;
    this.opened = false;
    this.scope.clear();
    this.calls.rejectAll('OCPP connection closed');
    if (!client) return;
    if (wasOpen) this.safeEmit('close', code, reason);
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

export function createLink(opts: LinkOptions, deps: LinkDeps): RpcLink {
  return new RpcLink(opts, deps);
}
