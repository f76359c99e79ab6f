/**
 * Every timer of the station goes through a Clock so that tests can run hours of station time in
 * milliseconds (VirtualClock) while production uses the real one (SystemClock).
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle | undefined): void;
}

export class SystemClock implements Clock {
  private next = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.set(id, t);
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, setInterval(fn, ms));
    return { id };
  }

  clear(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      clearInterval(t);
      this.timers.delete(handle.id);
    }
  }
}

interface VirtualTimer {
  id: number;
  due: number;
  every: number | undefined;
  fn: () => void;
}

/**
 * A clock that only moves when told to. advance() fires due timers in time order and lets pending
 * promise callbacks run between them, so async reactions to a timer settle before the next one.
 */
export class VirtualClock implements Clock {
  private t: number;
  private next = 1;
  private readonly timers = new Map<number, VirtualTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1, 8, 0, 0)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { id, due: this.t + Math.max(0, ms), every: undefined, fn });
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    const every = Math.max(1, ms);
    this.timers.set(id, { id, due: this.t + every, every, fn });
    return { id };
  }

  clear(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete(handle.id);
  }

  /** Number of timers still scheduled (for tests that check nothing leaks). */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by ms, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let first: VirtualTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.due <= end && (!first || timer.due < first.due || (timer.due === first.due && timer.id < first.id))) {
          first = timer;
        }
      }
      if (!first) break;
      this.t = first.due;
      if (first.every === undefined) this.timers.delete(first.id);
      else first.due += first.every;
      first.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Let queued promise callbacks and immediates run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
