/**
 * An event emitter whose event names and argument lists are checked by the compiler, and whose
 * `emit` isolates listeners: one that throws is logged and the others still run, and the part that
 * emitted never sees the error. A listener is someone else's code (an OCPP adapter listening to the
 * station, the station listening to a driver); its bug must not stop a safety reaction that runs
 * after it in the same emit.
 */
import type { Logger } from './logger.js';

type Listener = (...args: unknown[]) => void;

/** Where listener errors go when an emitter was given no logger: stderr, never silence. */
function reportToStderr(msg: string, meta: Record<string, unknown>): void {
  process.stderr.write(`error: ${msg} ${JSON.stringify(meta)}\n`);
}

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly listeners = new Map<string, { fn: Listener; once: boolean }[]>();
  private emitterLog: Pick<Logger, 'error'> | undefined;

  /** `log` receives the errors of listeners; `setEmitterLog` can give it later. */
  constructor(log?: Pick<Logger, 'error'>) {
    this.emitterLog = log;
  }

  protected setEmitterLog(log: Pick<Logger, 'error'>): void {
    this.emitterLog = log;
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return this.add(event, listener as unknown as Listener, false);
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return this.add(event, listener as unknown as Listener, true);
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    const list = this.listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((l) => l.fn === (listener as unknown as Listener));
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  removeAllListeners(): this {
    this.listeners.clear();
    return this;
  }

  /** Calls every listener of `event` in order; true when there was one. Never throws. */
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn as unknown as (...a: E[K]) => void);
      try {
        l.fn(...(args as unknown[]));
      } catch (err) {
        const meta = { event, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
        const msg = `${this.constructor.name}: a '${event}' listener failed`;
        if (this.emitterLog) this.emitterLog.error(msg, meta);
        else reportToStderr(msg, meta);
      }
    }
    return true;
  }

  private add(event: string, fn: Listener, once: boolean): this {
    const list = this.listeners.get(event) ?? [];
    list.push({ fn, once });
    this.listeners.set(event, list);
    return this;
  }
}
