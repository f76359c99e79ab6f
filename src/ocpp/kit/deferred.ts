/**
 * Work a CSMS call causes that must not be part of its answer: TriggerMessage's message goes after
 * the TriggerMessage CALLRESULT (1.6 5.17, 2.0.1 F06.FR.04), an upload starts after GetDiagnostics
 * answered, a reconnect after ChangeConfiguration answered. It runs once the handler's answer is on
 * its way (after this I/O turn: setImmediate, not a delay in time), and any CALL it makes is held by
 * the link's call scope (../call-scope.ts) until the CALLRESULT went out. A failure is logged, never
 * turned into the call's answer and never thrown into the event loop.
 */
import type { Logger } from '../../../base/logger.js';

export type DeferredFn = () => void | Promise<void>;

export class DeferredWork {
  private pending = 0;
  private cancelled = false;

  constructor(private readonly log: Pick<Logger, 'error'>) {}

  /** Run fn after the current call's response; `what` names it in the log when it fails. */
  after(fn: DeferredFn, what = 'work after a CSMS call'): void {
    this.pending++;
    setImmediate(() => {
      if (this.cancelled) {
        this.pending--;
        return;
      }
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.log.error(`${what} failed`, { error: err instanceof Error ? err.message : String(err) }))
        .finally(() => this.pending--);
    });
  }

  /** Deferred runs not finished yet. */
  get running(): number {
    return this.pending;
  }

  /** Work deferred but not started yet is dropped (the adapter stopped). */
  cancel(): void {
    this.cancelled = true;
  }

  /** Accept work again after cancel() (an adapter started a second time). */
  resume(): void {
    this.cancelled = false;
  }
}
