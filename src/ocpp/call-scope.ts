/**
 * "A message that a CSMS call causes goes after that call's CALLRESULT" (1.6 §5.17, 2.0.1 F06.FR.04,
 * and what a CSMS such as CitrineOS enforces: a station CALL that arrives while the CSMS still waits for
 * our answer gets `RpcFrameworkError "Call already in progress"`).
 *
 * The link opens a scope when a handler of a CSMS call starts and closes it when the CALLRESULT or
 * CALLERROR of that call has been handed to the socket. While any scope is open, every outgoing CALL
 * (direct or from the outbox) waits here, and all of them go, in the order they asked, once the last
 * scope closed. Only the send waits: an outbox message is committed to SQLite when it is enqueued, as
 * before.
 *
 * A handler that never finishes must not silence the station: a scope closes by itself after the
 * call timeout (the CSMS gave up on that answer by then), with a warning.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';

export interface ScopeEntry {
  readonly messageId: string;
  answered: boolean;
  timer: TimerHandle | undefined;
}

export class CallScope {
  /** Open scopes by message id; `answered` once the handler settled (its answer is on its way). */
  private readonly open = new Map<string, ScopeEntry>();
  private release: (() => void) | undefined;
  private released: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Longest a scope may hold the sends, in ms (the call timeout). */
    private readonly maxHoldMs: () => number,
  ) {}

  /** Outgoing CALLs must wait while this is true. */
  get holding(): boolean {
    return this.open.size > 0;
  }

  /** Resolves when no CSMS call is being answered any more (at once when none is). */
  idle(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    if (!this.released) this.released = new Promise<void>((resolve) => (this.release = resolve));
    return this.released;
  }

  /**
   * A handler of the CSMS call with this message id starts. The entry it gets back is what it hands
   * to answered(): ids are unique per connection only (OCPP-J §4.1.1), so a handler of an earlier
   * connection that finishes late must not mark a new call that reuses its id.
   */
  enter(messageId: string, action: string): ScopeEntry {
    this.clock.clear(this.open.get(messageId)?.timer);
    const entry: ScopeEntry = { messageId, answered: false, timer: undefined };
    entry.timer = this.clock.setTimeout(() => {
      this.log.warn('OCPP: the answer to a CSMS call is late; messages held behind it go now', { action, messageId });
      if (this.open.get(messageId) === entry) this.close(messageId);
    }, this.maxHoldMs());
    this.open.set(messageId, entry);
    return entry;
  }

  /** The handler settled: the next answer written with its message id is its answer. */
  answered(entry: ScopeEntry): void {
    if (this.open.get(entry.messageId) === entry) entry.answered = true;
  }

  /**
   * An answer with this message id is on the socket of the current connection (the link ignores
   * answers written to an earlier one). One written while the handler still runs is not its answer
   * (ocpp-rpc refuses a second CALL with the same id while the first is handled).
   */
  written(messageId: string): void {
    if (this.open.get(messageId)?.answered) this.close(messageId);
  }

  /** The connection is gone: no answer will be written, nothing may wait for one. */
  clear(): void {
    for (const s of this.open.values()) this.clock.clear(s.timer);
    this.open.clear();
    this.wake();
  }

  private close(messageId: string): void {
    const scope = this.open.get(messageId);
    if (!scope) return;
    this.clock.clear(scope.timer);
    this.open.delete(messageId);
    if (!this.holding) this.wake();
  }

  private wake(): void {
    const release = this.release;
    this.release = undefined;
    this.released = undefined;
    release?.();
  }
}
