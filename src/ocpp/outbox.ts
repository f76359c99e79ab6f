/**
 * The durable queue of transaction-related messages (1.6 StartTransaction / StopTransaction / MeterValues
 * of a transaction, 2.0.1 TransactionEvent, …), drained over the link one message at a time.
 *
 * Guarantees:
 * - enqueue() commits the row (synchronous=FULL) before it returns.
 * - Messages go out oldest first, one at a time, only while connected and ready; a message that is
 *   waiting for a retry holds back the ones behind it, so the CSMS always sees them in order.
 * - A message is deleted only after the CSMS answered with a CALLRESULT. The result handler and the
 *   delete run in one SQLite transaction, so state the handler writes to the same database (e.g. the
 *   real 1.6 transactionId) commits together with the delete. Delivery is "at least once": if the
 *   process dies after the CSMS answered but before that commit, the message is sent again after the
 *   restart (only the one message that was in flight can be repeated).
 * - A CALLERROR or a timeout is a failed attempt: the message is sent again after
 *   retryIntervalS × (attempts so far) (1.6 §4.10 TransactionMessageRetryInterval, 2.0.1 E13.FR.03),
 *   and after retryAttempts failures it moves to the outbox_dead table with a logged error and a
 *   'message-dead' event, then the next message goes (E13.FR.04). It is never dropped silently.
 * - A lost connection is not a failed attempt: the message is sent again after the reconnect.
 * - A payload that fails our own schema check (strict mode) can never be sent: it goes to the
 *   dead-letter table at once instead of blocking the queue through every retry.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../../hal/types.js';
import { storageHealth } from '../store/health.js';
import type { OutboxStore } from '../store/outbox.js';
import type { OutboxMessage } from './link.js';

export interface RetryPolicy {
  /** Transmissions in all, including the first (TransactionMessageAttempts / MessageAttempts). */
  attempts: number;
  /** Seconds, multiplied by the number of preceding transmissions. */
  intervalS: number;
}

export interface OutboxDeps {
  store: OutboxStore;
  clock: Clock;
  log: Logger;
  /**
   * Sends one CALL; resolves with the CALLRESULT, rejects on CALLERROR, timeout or disconnect, and
   * with InvalidMessageError when the payload fails the schema before it is sent.
   */
  send(action: string, payload: Record<string, unknown>): Promise<unknown>;
  connected(): boolean;
  onDead(message: OutboxMessage, error: string): void;
  retry: RetryPolicy;
}

export type ResultHandler = (message: OutboxMessage, response: unknown) => void;
export type Preparer = (message: OutboxMessage) => Record<string, unknown>;

type Outcome = 'done' | 'retry' | 'offline';

/** Thrown by send() when our own strict schema check refused the payload: it was never sent. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
  constructor(
    message: string,
    readonly protocol: string,
  ) {
    super(message);
  }
}

/** A failure the CSMS (or our own schema check) is responsible for, as opposed to a lost connection. */
function isCountedFailure(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { rpcErrorCode?: unknown; constructor?: { name?: string } };
  return typeof e.rpcErrorCode === 'string' || e.constructor?.name === 'TimeoutError';
}

function describe(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { rpcErrorCode?: unknown; message?: unknown };
    if (typeof e.rpcErrorCode === 'string') return `CALLERROR ${e.rpcErrorCode}: ${String(e.message ?? '')}`;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

export class Outbox {
  private ready = false;
  private stopped = false;
  private draining = false;
  private kickAgain = false;
  private retryTimer: TimerHandle | undefined;
  private retry: RetryPolicy;
  private readonly results = new Map<string, ResultHandler>();
  private readonly preparers = new Map<string, Preparer>();

  /** A drain stopped by a storage fault (the delete after an answer failed) goes on once writes work. */
  private readonly onStorageRecovered = (): void => this.kick();

  constructor(private readonly deps: OutboxDeps) {
    this.retry = { ...deps.retry };
    storageHealth(deps.store.db).on('recovered', this.onStorageRecovered);
  }

  enqueue(action: string, payload: Record<string, unknown>, txKey?: string): number {
    const id = this.deps.store.add(action, payload, txKey, this.deps.clock.now());
    queueMicrotask(() => this.kick());
    return id;
  }

  onResult(action: string, fn: ResultHandler): void {
    this.results.set(action, fn);
  }

  setPreparer(action: string, fn: Preparer): void {
    this.preparers.set(action, fn);
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) this.kick();
  }

  setRetryPolicy(policy: RetryPolicy): void {
    this.retry = { attempts: Math.max(1, Math.floor(policy.attempts)), intervalS: Math.max(0, policy.intervalS) };
  }

  pendingCount(): number {
    return this.deps.store.count();
  }

  /** Try to send now (after connect, ready, enqueue or a retry timer). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.kickAgain = true;
      return;
    }
    void this.drain();
  }

  stop(): void {
    this.stopped = true;
    storageHealth(this.deps.store.db).off('recovered', this.onStorageRecovered);
    this.deps.clock.clear(this.retryTimer);
    this.retryTimer = undefined;
  }

  private canSend(): boolean {
    return !this.stopped && this.ready && this.retryTimer === undefined && this.deps.connected();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    this.kickAgain = false;
    try {
      while (this.canSend()) {
        const head = this.deps.store.head();
        if (!head) break;
        const outcome = await this.attempt(head);
        // Offline: wait for the next connect to kick us rather than spin on a dead socket.
        if (outcome === 'offline') break;
      }
    } catch (err) {
      this.deps.log.error('OCPP outbox: drain failed', { error: describe(err) });
    } finally {
      this.draining = false;
    }
    // Something changed while we were awaiting (reconnected, enqueued): look again, on a fresh tick.
    if (this.kickAgain) {
      this.kickAgain = false;
      setImmediate(() => this.kick());
    }
  }

  private async attempt(row: OutboxMessage): Promise<Outcome> {
    const { store, log } = this.deps;
    const message: OutboxMessage = { ...row, attempts: row.attempts + 1 };
    let payload = row.payload;
    const prepare = this.preparers.get(row.action);
    if (prepare) {
      try {
        payload = prepare(message);
      } catch (err) {
        return this.failed(message, `preparer failed: ${describe(err)}`);
      }
    }
    let response: unknown;
    try {
      response = await this.deps.send(row.action, payload);
    } catch (err) {
      if (err instanceof InvalidMessageError) {
        // It can never pass the schema (e.g. queued for the other OCPP version): retrying only holds
        // back the messages behind it.
        return this.failed(message, `not sent, fails the ${err.protocol} schema: ${err.message}`, true);
      }
      if (!isCountedFailure(err)) {
        log.debug('OCPP outbox: not sent, waiting for the connection', { id: row.id, action: row.action, error: describe(err) });
        return 'offline';
      }
      return this.failed(message, describe(err));
    }
    const handler = this.results.get(row.action);
    try {
      store.db.transaction(() => {
        handler?.(message, response);
        store.remove(row.id);
      })();
    } catch (err) {
      // The CSMS has the message; sending it again would not fix the handler. Keep the order moving.
      log.error('OCPP outbox: result handler failed; message removed anyway', {
        id: row.id,
        action: row.action,
        error: describe(err),
      });
      store.remove(row.id);
    }
    return 'done';
  }

  private failed(message: OutboxMessage, error: string, hopeless = false): Outcome {
    const { store, log, clock } = this.deps;
    if (hopeless || message.attempts >= this.retry.attempts) {
      store.db.transaction(() => {
        store.setAttempts(message.id, message.attempts);
        store.kill(message.id, error, clock.now());
      })();
      log.error('OCPP outbox: message failed its last attempt, moved to the dead-letter table', {
        id: message.id,
        action: message.action,
        attempts: message.attempts,
        error,
      });
      this.deps.onDead(message, error);
      return 'done';
    }
    store.setAttempts(message.id, message.attempts);
    const delayMs = this.retry.intervalS * 1000 * message.attempts;
    log.warn('OCPP outbox: message not accepted, will retry', {
      id: message.id,
      action: message.action,
      attempts: message.attempts,
      retryInS: delayMs / 1000,
      error,
    });
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delayMs);
    return 'retry';
  }
}
