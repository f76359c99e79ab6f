/**
 * The contract of the OCPP-J link shared by both adapters: one WebSocket (ocpp-rpc) to the CSMS, the
 * durable outbox for transaction messages, and the handlers of CSMS-initiated calls.
 * Implemented in src/ocpp/rpc-link.ts; the adapters only see this interface.
 */
import type { TypedEmitter } from '../../base/emitter.js';
import type { OcppConfig } from '../config/types.js';

export type OcppProtocol = 'ocpp1.6' | 'ocpp2.0.1';

/** A transaction message waiting in SQLite for its answer. */
export interface OutboxMessage {
  id: number;
  action: string;
  payload: Record<string, unknown>;
  /** Groups the messages of one transaction (the station session id). */
  txKey?: string;
  attempts: number;
  /** Epoch ms when queued. */
  createdAt: number;
}

export interface LinkEvents {
  /** Connected and the subprotocol is agreed. */
  open: [protocol: OcppProtocol];
  close: [code: number, reason: string];
  /** A queued message exhausted its attempts and moved to the dead-letter table. */
  'message-dead': [message: OutboxMessage, error: string];
  /**
   * The TLS handshake failed for a reason OCPP reports as a security event (2.0.1 A00.FR.310 /
   * A00.FR.316; 1.6 security whitepaper: InvalidCentralSystemCertificate / InvalidTLSVersion).
   * Emitted once per run of failed attempts (again only after a successful connection), so the
   * adapter can queue one SecurityEventNotification.
   */
  'security-event': [type: LinkSecurityEvent, detail: string];
}

/** What the link can tell an operator (src/http reads it): a snapshot, cheap to take. */
export interface LinkStatus {
  protocol: OcppProtocol | undefined;
  connected: boolean;
  /** Epoch ms (station clock) the current connection opened. */
  connectedSince?: number;
  /** Why the last attempt failed or the last connection closed. */
  lastError?: { at: number; message: string };
  /** Epoch ms of the next connection attempt while one is scheduled. */
  nextRetryAt?: number;
  /** Connection attempts and connections opened since the start. */
  attempts: number;
  opens: number;
  outbox: { depth: number; oldestCreatedAt?: number; deadLetters: number };
}

export type LinkSecurityEvent = 'InvalidCsmsCertificate' | 'InvalidTLSVersion';

export interface CallContext {
  action: string;
  messageId: string;
}

/** Returns the response payload; throw an ocpp-rpc RPCError (createRPCError) for a CALLERROR. */
export type CallHandler = (params: unknown, ctx: CallContext) => unknown;

/** What reconfigure() may change at run time (a subset of OcppConfig). */
export type LinkSettings = Partial<
  Pick<
    OcppConfig,
    | 'version'
    | 'csmsUrl'
    | 'securityProfile'
    | 'password'
    | 'passwordEncoding'
    | 'caFile'
    | 'clientCertFile'
    | 'clientKeyFile'
    | 'callTimeoutS'
    | 'pingIntervalS'
    | 'reconnect'
    | 'outbox'
  >
>;

export interface OcppLink extends TypedEmitter<LinkEvents> {
  /** The negotiated subprotocol while connected (undefined before the first connection). */
  readonly protocol: OcppProtocol | undefined;
  readonly connected: boolean;
  /** Start connecting; reconnects with capped exponential back-off and jitter until stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A direct CALL (not queued). Rejects when not connected, on CALLERROR and on timeout. */
  call<T = unknown>(action: string, payload: object): Promise<T>;
  /**
   * Durable: the message is committed to SQLite before this returns, and sent in order (oldest first)
   * when connected and ready. Removed only once the CSMS answered. Returns the outbox id.
   */
  enqueue(action: string, payload: Record<string, unknown>, opts?: { txKey?: string }): number;
  /** Receives each queued message's answer, also for messages queued before a restart. */
  onQueuedResult(action: string, fn: (message: OutboxMessage, response: unknown) => void): void;
  /** Rewrites a queued payload just before it is sent (e.g. the real 1.6 transactionId). */
  setQueuedPreparer(action: string, fn: (message: OutboxMessage) => Record<string, unknown>): void;
  /**
   * Handler for a CSMS-initiated action. An action of the negotiated version without a handler gets
   * CALLERROR NotSupported; an action the version does not define, NotImplemented.
   */
  handle(action: string, handler: CallHandler): void;
  /** Queued messages wait until ready (the adapter sets it once BootNotification is Accepted). */
  setReady(ready: boolean): void;
  /** Messages waiting in the outbox. */
  pendingCount(): number;
  /**
   * Optional (the real link has it; test fakes need not): change URL / security profile / password /
   * timing at run time and reconnect without restarting the process. Throws on a bad combination and
   * then changes nothing.
   */
  reconfigure?(changes: LinkSettings): Promise<void>;
  /** Optional: the outbox retry policy (1.6 TransactionMessageAttempts/RetryInterval, 2.0.1 E13). */
  setRetryPolicy?(policy: { attempts: number; intervalS: number }): void;
}
