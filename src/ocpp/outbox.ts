/**
 * The durable queue of transaction-related messages (1.6 StartTransaction / StopTransaction / MeterValues
 * of a transaction, 2.0.1 TransactionEvent, …) and of a few other messages that must not be lost
 * (SecurityEventNotification), drained over the link one message at a time.
 *
 * Guarantees:
 * - enqueue() commits the row (synchronous=FULL) before it returns.
 * - Messages go out oldest first, one at a time, only while connected and ready; a message that is
 *   waiting for a retry holds back the ones behind it, so the CSMS always sees them in order.
 * - A message is deleted only after the CSMS answered with a CALLRESULT. The result handler and the
 *   delete run in one SQLite transaction, committed without its own fsync (the next fsync'ed commit
 *   makes it durable; a process crash loses nothing, a power cut before that can only send the message
 *   once more, as below), so state the handler writes to the same database (e.g. the
 *   real 1.6 transactionId) commits together with the delete. Delivery is "at least once": if the
 *   process dies after the CSMS answered but before that commit, the message is sent again after the
 *   restart (only the one message that was in flight can be repeated).
 * - Only a CALLERROR is a failed attempt ("failure to process the message", 1.6 §3.7.1 / 2.0.1 E13):
 *   the message is sent again after retryIntervalS × (attempts so far) (TransactionMessageRetryInterval,
 *   E13.FR.03), and after retryAttempts failures it moves to the outbox_dead table with a logged error
 *   and a 'message-dead' event, then the next message goes (E13.FR.04). It is never dropped silently:
 *   dead letters are listed and replayed by `ocpp-station outbox …`, and revived after every
 *   accepted BootNotification.
 * - A time-out or a lost connection is not an attempt: the link reconnects after a time-out
 *   (2.0.1 part 2 §3.2) and the message is sent again after the reconnect, however often that
 *   happens. A hung CSMS therefore never dead-letters anything.
 * - A CALLERROR that says the CSMS is busy ("Call already in progress", "try again", …) is retried
 *   after busy.delayS without counting as an attempt, busy.max times in a row per message; after that
 *   a busy answer counts like any other CALLERROR, so a peer that always says busy still ends in the
 *   retry rule above.
 * - A payload that fails our own schema check (strict mode) can never be sent: it goes to the
 *   dead-letter table at once instead of blocking the queue through every retry.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
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
   * with InvalidMessageError when the payload fails the schema before it is sent. `transaction`: a
   * message of a transaction (sent before status traffic, ./call-queue.ts).
   */
  send(action: string, payload: Record<string, unknown>, transaction: boolean): Promise<unknown>;
  connected(): boolean;
  onDead(message: OutboxMessage, error: string): void;
  retry: RetryPolicy;
  busy?: BusyPolicy;
}

export interface BusyPolicy {
  /** Seconds before a message the CSMS answered "busy" goes again. */
  delayS: number;
  /** Busy answers in a row per message that do not count as attempts. */
  max: number;
}

/** Messages of a transaction: never lost to time-outs, first in the send order. */
export function isTransactionMessage(action: string, txKey: string | undefined): boolean {
  return action === 'StartTransaction' || action === 'StopTransaction' || action === 'TransactionEvent' || (action === 'MeterValues' && txKey !== undefined);
}

export type ResultHandler = (message: OutboxMessage, response: unknown) => void;
export type Preparer = (message: OutboxMessage) => Record<string, unknown>;

type Outcome = 'done' | 'retry' | 'offline';

const DEFAULT_BUSY: BusyPolicy = { delayS: 2, max: 5 };

/** A drain of at least this many messages is a backlog worth giving the space back for. */
export const COMPACT_AFTER_MESSAGES = 1000;
/** At most this many 4 KiB pages freed per compaction (16 MiB), so the event loop is held briefly. */
const COMPACT_MAX_PAGES = 4096;

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

/** A CALLERROR: the CSMS failed to process the message (time-outs and disconnects are not). */
function isCallError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  return typeof (err as { rpcErrorCode?: unknown }).rpcErrorCode === 'string';
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}

/**
 * A CALLERROR that asks us to come back later rather than saying the message is wrong: CitrineOS
 * answers a CALL that arrives while it is busy with RpcFrameworkError "Call already in progress";
 * other CSMSs (and 1.6, which has no RpcFrameworkError) say busy / try again in a GenericError or
 * InternalError.
 */
export function isBusyError(err: unknown): boolean {
  if (!isCallError(err)) return false;
  const e = err as { rpcErrorCode: string; message?: unknown };
  if (!['RpcFrameworkError', 'GenericError', 'InternalError'].includes(e.rpcErrorCode)) return false;
  return /in progress|busy|try again|retry later|too many|concurren/i.test(String(e.message ?? ''));
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
  /** Messages delivered since the queue was last empty. */
  private sentSinceEmpty = 0;
  private retryTimer: TimerHandle | undefined;
  private retry: RetryPolicy;
  private readonly busy: BusyPolicy;
  /** Busy answers in a row, per message id (memory only: a restart starts the count again). */
  private readonly busyCount = new Map<number, number>();
  private readonly results = new Map<string, ResultHandler>();
  private readonly preparers = new Map<string, Preparer>();

  /** A drain stopped by a storage fault (the delete after an answer failed) goes on once writes work. */
  private readonly onStorageRecovered = (): void => this.kick();

  constructor(private readonly deps: OutboxDeps) {
    this.retry = { ...deps.retry };
    storageHealth(deps.store.db).on('recovered', this.onStorageRecovered);
    this.busy = { ...(deps.busy ?? DEFAULT_BUSY) };
  }

  /** One log line at start: what waits, and the dead letters an operator may want to look at. */
  logState(): void {
    const { store, log } = this.deps;
    const queued = store.count();
    const dead = store.deadCount();
    const meta = { queued, deadLetters: dead };
    if (dead > 0) log.warn(`OCPP outbox: ${dead} dead letter(s) (see: ocpp-station outbox list)`, meta);
    else log.info('OCPP outbox', meta);
  }

  /**
   * Every dead letter back into the queue at its old place (its id), attempts from zero. Returns how
   * many. Called after an accepted BootNotification (the CSMS may have been fixed since).
   */
  reviveDead(why: string): number {
    const { store, log } = this.deps;
    const ids = store.dead().map((d) => d.id);
    if (ids.length === 0) return 0;
    const n = store.revive(ids);
    log.info('OCPP outbox: dead letters queued again', { count: n, why });
    this.kick();
    return n;
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
        if (!head) {
          this.afterDrain();
          break;
        }
        const outcome = await this.attempt(head);
        if (outcome === 'done') this.sentSinceEmpty++;
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
      response = await this.deps.send(row.action, payload, isTransactionMessage(row.action, row.txKey));
    } catch (err) {
      if (err instanceof InvalidMessageError) {
        // It can never pass the schema (e.g. queued for the other OCPP version): retrying only holds
        // back the messages behind it.
        return this.failed(message, `not sent, fails the ${err.protocol} schema: ${err.message}`, true);
      }
      if (!isCallError(err)) {
        // A time-out or a lost connection says nothing about the message: not an attempt.
        log.debug('OCPP outbox: not delivered, stays queued for the next connection', { id: row.id, action: row.action, error: describe(err) });
        if (isTimeout(err)) this.afterTimeout();
        return 'offline';
      }
      if (isBusyError(err)) {
        const busy = (this.busyCount.get(row.id) ?? 0) + 1;
        this.busyCount.set(row.id, busy);
        if (busy <= this.busy.max) return this.retryAfter(row, this.busy.delayS * 1000, `CSMS busy (${busy}/${this.busy.max}): ${describe(err)}`);
        // Busy once too often for this message: from now on it counts (the count is kept until the
        // message leaves the queue, so a peer that always says busy ends in the retry rule).
      }
      return this.failed(message, describe(err));
    }
    this.busyCount.delete(row.id);
    const handler = this.results.get(row.action);
    try {
      store.committedLazily(() => {
        handler?.(message, response);
        store.remove(row.id);
      });
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

  /**
   * A large backlog just drained: shrink the database file (bounded incremental vacuum, WAL truncated)
   * on a later turn, off the send path. The nightly maintenance does the rest.
   */
  private afterDrain(): void {
    if (this.sentSinceEmpty < COMPACT_AFTER_MESSAGES) return;
    this.sentSinceEmpty = 0;
    this.deps.clock.setTimeout(() => {
      if (this.stopped) return;
      try {
        this.deps.store.compact(COMPACT_MAX_PAGES);
      } catch (err) {
        this.deps.log.warn('OCPP outbox: shrinking the database after a drain failed', { error: describe(err) });
      }
    }, 0);
  }

  private failed(message: OutboxMessage, error: string, hopeless = false): Outcome {
    const { store, log, clock } = this.deps;
    if (hopeless || message.attempts >= this.retry.attempts) {
      this.busyCount.delete(message.id);
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
    return this.retryAfter(message, this.retry.intervalS * 1000 * message.attempts, error);
  }

  private retryAfter(message: OutboxMessage, delayMs: number, error: string): Outcome {
    this.deps.log.warn('OCPP outbox: message not accepted, will retry', {
      id: message.id,
      action: message.action,
      attempts: message.attempts,
      retryInS: delayMs / 1000,
      error,
    });
    this.deps.clock.clear(this.retryTimer);
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delayMs);
    return 'retry';
  }

  /**
   * A time-out normally takes the connection down (the link reconnects, and the reconnect kicks us).
   * If it did not (the CALL expired while waiting behind another one that was then answered), look
   * again after a moment rather than wait for an event that may not come.
   */
  private afterTimeout(): void {
    if (this.retryTimer !== undefined || this.stopped || !this.deps.connected()) return;
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.busy.delayS * 1000);
  }
}
