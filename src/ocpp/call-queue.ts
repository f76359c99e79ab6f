/**
 * The order in which the station's own CALLs leave, and their time-outs on the station Clock.
 *
 * OCPP-J allows one CALL in flight per connection (1.6J §4.1.1, 2.0.1 part 4 §4.1.1), so whatever
 * waits behind it waits in this queue. The send order (README "Outbox and message order"):
 * - three classes, each strictly FIFO; the next CALL is the oldest one of the highest class waiting;
 * - class 'urgent': BootNotification, Authorize and transaction messages (1.6 Start/StopTransaction
 *   and the MeterValues of a transaction, 2.0.1 TransactionEvent; the outbox gives them one at a time,
 *   so among themselves they stay in queue order); a driver waits for no status traffic;
 * - class 'normal': every other CALL (DataTransfer, notifications of firmware/logs/security, …);
 * - class 'status': StatusNotification and Heartbeat. A status never overtakes an urgent or normal
 *   CALL queued before it; an urgent one may overtake a status queued before it (errata 3.19 of 1.6
 *   lets non-transaction messages go first; a StatusNotification after a queued StartTransaction of the
 *   same connector therefore always follows it).
 * - the CALL in flight is never interrupted by a later, higher one.
 *
 * Time-out: for an urgent CALL callTimeoutS counts from the moment it is queued, waiting included, so
 * the one who asked (a driver's Authorize) never waits longer than one time-out, whatever was in front
 * of it; one that expires while still waiting was never sent. Other CALLs count from when they are
 * sent: nobody waits for their answer, and a StatusNotification that waited behind a long outbox drain
 * is still worth sending. A CALL that was sent and timed out means the connection is suspect: the link
 * drops it and reconnects (2.0.1 part 2 §3.2 "Message timeouts").
 * When the next CALL to go is urgent it goes at once (nothing can outrank it; urgent ones keep their
 * queue order). Otherwise dispatch waits for a fresh macrotask (setImmediate), so every CALL queued
 * in the same turn of the event loop (e.g. the outbox's next message, queued a few promise steps
 * after the previous answer) competes by class, not by who ran first.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';

export type CallClass = 'urgent' | 'normal' | 'status';
const ORDER: readonly CallClass[] = ['urgent', 'normal', 'status'];

const URGENT = new Set(['BootNotification', 'Authorize', 'StartTransaction', 'StopTransaction', 'TransactionEvent']);
const STATUS = new Set(['StatusNotification', 'Heartbeat']);

/** The class of a CALL; `transaction` marks a message of a transaction (the outbox knows). */
export function callClassOf(action: string, transaction = false): CallClass {
  if (transaction || URGENT.has(action)) return 'urgent';
  if (STATUS.has(action)) return 'status';
  return 'normal';
}

/** No answer within the call time-out. `sent` tells whether the CALL ever left. */
/** The connection went away before the CALL was answered: the CSMS was unreachable, it did not refuse. */
export class CallNotDeliveredError extends Error {
  override name = 'CallNotDeliveredError';
}

export class CallTimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(
    readonly action: string,
    readonly sent: boolean,
    timeoutMs: number,
  ) {
    super(`Call timeout: no answer to ${action} within ${timeoutMs / 1000} s${sent ? '' : ' (never sent: waited behind another CALL)'}`);
  }
}

export interface CallQueueDeps {
  clock: Clock;
  timeoutMs(): number;
  /** Sends one CALL; settles with its answer. Aborting the signal must reject it. */
  transmit(action: string, payload: object, signal: AbortSignal): Promise<unknown>;
  /** A CALL that was sent got no answer in time. */
  onSentTimeout(action: string): void;
}

interface Entry {
  action: string;
  payload: object;
  cls: CallClass;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  timer: TimerHandle | undefined;
  sent: boolean;
  done: boolean;
  abort: AbortController | undefined;
}

export class CallQueue {
  private readonly waiting = new Map<CallClass, Entry[]>(ORDER.map((c) => [c, []]));
  private inFlight: Entry | undefined;
  private scheduled = false;

  constructor(private readonly deps: CallQueueDeps) {}

  push(action: string, payload: object, cls: CallClass = callClassOf(action)): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const e: Entry = { action, payload, cls, resolve, reject, timer: undefined, sent: false, done: false, abort: undefined };
      if (cls === 'urgent') this.startTimer(e);
      this.waiting.get(cls)!.push(e);
      this.schedule();
    });
  }

  /** CALLs waiting (not the one in flight), by class; for tests and logs. */
  waitingActions(): string[] {
    return ORDER.flatMap((c) => this.waiting.get(c)!.map((e) => e.action));
  }

  /** The connection is gone: the CALL in flight and every waiting one fail now, as not delivered. */
  rejectAll(reason: string): void {
    const all = [...(this.inFlight ? [this.inFlight] : []), ...ORDER.flatMap((c) => this.waiting.get(c)!)];
    for (const c of ORDER) this.waiting.set(c, []);
    for (const e of all) {
      this.settle(e, () => e.reject(new CallNotDeliveredError(`${reason}: ${e.action} not delivered`)), false);
      e.abort?.abort(reason);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    if (this.waiting.get('urgent')!.length > 0) {
      this.next();
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight) return;
    let e: Entry | undefined;
    for (const c of ORDER) {
      e = this.waiting.get(c)!.shift();
      if (e) break;
    }
    if (!e) return;
    const entry = e;
    this.inFlight = entry;
    entry.sent = true;
    if (entry.timer === undefined) this.startTimer(entry);
    entry.abort = new AbortController();
    let sending: Promise<unknown>;
    try {
      sending = this.deps.transmit(entry.action, entry.payload, entry.abort.signal);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then(
      (value) => this.settle(entry, () => entry.resolve(value)),
      (err: unknown) => this.settle(entry, () => entry.reject(err)),
    );
  }

  private startTimer(e: Entry): void {
    const ms = this.deps.timeoutMs();
    if (ms > 0 && Number.isFinite(ms)) e.timer = this.deps.clock.setTimeout(() => this.expire(e, ms), ms);
  }

  private settle(e: Entry, fn: () => void, reschedule = true): void {
    if (e.done) return;
    e.done = true;
    this.deps.clock.clear(e.timer);
    e.timer = undefined;
    if (this.inFlight === e) this.inFlight = undefined;
    fn();
    if (reschedule) this.schedule();
  }

  private expire(e: Entry, ms: number): void {
    if (e.done) return;
    e.timer = undefined;
    const sent = e.sent;
    if (!sent) {
      const q = this.waiting.get(e.cls)!;
      const i = q.indexOf(e);
      if (i >= 0) q.splice(i, 1);
    }
    this.settle(e, () => e.reject(new CallTimeoutError(e.action, sent, ms)), false);
    // Frees ocpp-rpc's pending call (its own time-out is off: this one runs on the station Clock).
    e.abort?.abort('call timeout');
    // The link drops the connection first (failing what waits), so nothing goes onto the dead one.
    if (sent) this.deps.onSentTimeout(e.action);
    this.schedule();
  }
}
