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
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Logger } from '../../hal/types.js';

export class CallScope {
  private readonly open = new Map<string, TimerHandle>();
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

  /** A handler of the CSMS call with this message id starts. */
  enter(messageId: string, action: string): void {
    this.clock.clear(this.open.get(messageId));
    const timer = this.clock.setTimeout(() => {
      this.log.warn('OCPP: the answer to a CSMS call is late; messages held behind it go now', { action, messageId });
      this.leave(messageId);
    }, this.maxHoldMs());
    this.open.set(messageId, timer);
  }

  /** The answer to that call is on the socket (or will never be sent). */
  leave(messageId: string): void {
    const timer = this.open.get(messageId);
    if (!timer) return;
    this.clock.clear(timer);
    this.open.delete(messageId);
    if (!this.holding) this.wake();
  }

  /** The connection is gone: no answer will be written, nothing may wait for one. */
  clear(): void {
    for (const t of this.open.values()) this.clock.clear(t);
    this.open.clear();
    this.wake();
  }

  private wake(): void {
    const release = this.release;
    this.release = undefined;
    this.released = undefined;
    release?.();
  }
}
