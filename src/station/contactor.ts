/**
 * The relay of one EVSE as the pilot/contactor layer drives it: the command, the check of its mirror
 * contact (welded / stuck open), and the retries of an open command the board did not receive. It
 * decides nothing: the EVSE's safety rule says open or closed; this part makes it so and reports what
 * went wrong as faults.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { HalFault, HalFaultKind, Relay } from '../../hal/types.js';
import { isUndelivered } from '../../hal/errors.js';

/** Time the relay's mirror contact may take to follow a command before a mismatch is a fault. */
export const FEEDBACK_SETTLE_MS = 1000;
/** While a contactor command could not be delivered, the open command is sent again this often. */
export const COMM_RETRY_MS = 2000;
export const WELDED = 'feedback closed while commanded open';
export const STUCK_OPEN = 'feedback open while commanded closed';

export interface ContactorDeps {
  evseId: number;
  relay: Relay;
  clock: Clock;
  log: Logger;
  raise: (f: HalFault) => void;
  clear: (kind: HalFaultKind) => void;
  fault: (kind: HalFaultKind) => HalFault | undefined;
  /** The EVSE shut down: no more checks or retries. */
  stopped: () => boolean;
}

export class Contactor {
  private feedbackTimer: TimerHandle | undefined;
  private commRetryTimer: TimerHandle | undefined;

  constructor(private readonly d: ContactorDeps) {
    d.relay.on('feedback', () => this.scheduleFeedbackCheck());
  }

  get commanded(): boolean {
    return this.d.relay.commanded;
  }

  command(closed: boolean): void {
    this.d.relay.set(closed).catch((err: unknown) => {
      this.d.log.error('contactor command failed', { evse: this.d.evseId, closed, err: String(err) });
      if (isUndelivered(err)) this.commFailed(closed, err);
      else this.d.raise({ kind: closed ? 'contactor-stuck-open' : 'contactor-welded', severity: closed ? 'low' : 'high', detail: String(err) });
    });
    this.scheduleFeedbackCheck();
  }

  /** A part's link is back: an undelivered open command need not wait for the next retry. */
  linkBack(): void {
    if (this.d.fault('comm-failure')) this.retryOpen();
  }

  /** The session is over: the next one may try a contactor our own check found stuck open. */
  forgetStuckOpen(): void {
    if (this.d.fault('contactor-stuck-open')?.detail === STUCK_OPEN) this.d.clear('contactor-stuck-open');
  }

  stop(): void {
    this.d.clock.clear(this.feedbackTimer);
    this.feedbackTimer = undefined;
    this.d.clock.clear(this.commRetryTimer);
    this.commRetryTimer = undefined;
  }

  /**
   * The command never reached the board (port gone, no answer): a communication fault, not a welded or
   * stuck contactor. High, so the contactor stays commanded open and no session starts here; the board
   * itself must open its relay when the host falls silent (docs/board-profiles.md). The open command
   * is sent again until it is delivered, which clears the fault: no restart needed.
   */
  private commFailed(closed: boolean, err: unknown): void {
    this.d.raise({
      kind: 'comm-failure',
      severity: 'high',
      detail: `contactor ${closed ? 'close' : 'open'} not delivered: ${String(err)}`,
      vendorCode: 'ContactorCommandUndelivered',
    });
    this.armCommRetry();
  }

  private armCommRetry(): void {
    if (this.d.stopped() || this.commRetryTimer) return;
    this.commRetryTimer = this.d.clock.setTimeout(() => {
      this.commRetryTimer = undefined;
      this.retryOpen();
    }, COMM_RETRY_MS);
  }

  private retryOpen(): void {
    if (!this.d.fault('comm-failure')) return;
    this.d.relay.set(false).then(
      () => {
        this.d.clock.clear(this.commRetryTimer);
        this.commRetryTimer = undefined;
        this.d.log.info('contactor command delivered again', { evse: this.d.evseId });
        this.d.clear('comm-failure');
      },
      (err: unknown) => {
        if (isUndelivered(err)) this.armCommRetry();
        else this.d.raise({ kind: 'contactor-welded', severity: 'high', detail: String(err) });
      },
    );
  }

  private scheduleFeedbackCheck(): void {
    if (this.d.relay.feedback === undefined || this.d.stopped()) return;
    this.d.clock.clear(this.feedbackTimer);
    this.feedbackTimer = this.d.clock.setTimeout(() => {
      this.feedbackTimer = undefined;
      this.checkFeedback();
    }, FEEDBACK_SETTLE_MS);
  }

  private checkFeedback(): void {
    const { commanded, feedback } = this.d.relay;
    if (feedback === undefined) return;
    if (feedback && !commanded) {
      this.d.raise({ kind: 'contactor-welded', severity: 'high', detail: WELDED });
    } else if (!feedback && commanded) {
      this.d.raise({ kind: 'contactor-stuck-open', severity: 'low', detail: STUCK_OPEN });
    } else if (!feedback && !commanded) {
      // Only clear what our own check raised; a driver that raised it clears it itself.
      // A stuck-open contactor is not retried within the session (that would chatter); see forgetStuckOpen.
      if (this.d.fault('contactor-welded')?.detail === WELDED) this.d.clear('contactor-welded');
    }
  }
}
