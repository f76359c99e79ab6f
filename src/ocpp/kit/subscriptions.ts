/**
 * Every listener an adapter block puts on the station or the link, recorded so that the adapter's
 * stop() removes them all, and so that an event arriving after stop (an emit already under way) is
 * not turned into a message. A block never calls `off` itself; it subscribes through here.
 */
import type { StationEvents } from '../../station/api.js';
import type { LinkEvents } from '../link.js';

/** What can be subscribed to: the station, the link (or a typed view of it), a test fake of either. */
export interface Emitter<E> {
  on<K extends keyof E & string>(event: K, listener: (...args: E[K] & unknown[]) => void): unknown;
  off<K extends keyof E & string>(event: K, listener: (...args: E[K] & unknown[]) => void): unknown;
}

export class Subscriptions {
  private readonly undo: (() => void)[] = [];
  private stoppedFlag = false;

  /** True once stop() ran: listeners added through here no longer run. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** How many subscriptions and clean-ups are recorded (for tests that check nothing leaks). */
  get size(): number {
    return this.undo.length;
  }

  /** `source.on(event, fn)` until stop(); fn does not run after stop even if an emit is under way. */
  on<K extends keyof StationEvents & string>(source: Emitter<StationEvents>, event: K, fn: (...args: StationEvents[K]) => void): void;
  on<K extends keyof LinkEvents & string>(source: Emitter<LinkEvents>, event: K, fn: (...args: LinkEvents[K]) => void): void;
  on(source: Emitter<Record<string, unknown[]>>, event: string, fn: (...args: unknown[]) => void): void {
    if (this.stoppedFlag) return;
    const listener = (...args: unknown[]): void => {
      if (!this.stoppedFlag) fn(...args);
    };
    source.on(event, listener);
    this.undo.push(() => source.off(event, listener));
  }

  /** Any other clean-up that belongs to the adapter's lifetime (a timer, a part's own stop). */
  add(cleanUp: () => void): void {
    if (this.stoppedFlag) {
      cleanUp();
      return;
    }
    this.undo.push(cleanUp);
  }

  /** Remove every subscription and run every clean-up, newest first; a failing one does not stop the rest. */
  stop(onError?: (err: unknown) => void): void {
    this.stoppedFlag = true;
    for (const fn of this.undo.splice(0).reverse()) {
      try {
        fn();
      } catch (err) {
        onError?.(err);
      }
    }
  }

  /** Allow subscribing again after stop (an adapter that is started a second time). */
  restart(): void {
    this.stoppedFlag = false;
  }
}
