/**
 * One RAPI conversation per serial port, shared by the parts an OpenEVSE board provides (pilot and
 * contactor). Commands go one at a time; each waits for its $OK / $NK with a timeout on the
 * injected clock and is retried on $NK, on a reply with a bad checksum and on timeout.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { HalDeps } from '../types.js';
import type { DriverContext } from '../registry.js';
import { ManagedPort } from './port.js';
import { frame, parseLine } from './rapi-protocol.js';

export interface RapiLinkOptions {
  port: string;
  baudRate: number;
  timeoutMs: number;
  retries: number;
  requireChecksum: boolean;
  reopenMinMs: number;
  reopenMaxMs: number;
}

/** The link's own options out of a part's (hal/serial/schemas.ts rapiLinkProperties, defaults filled in). */
export function linkOptionsOf(o: RapiLinkOptions): RapiLinkOptions {
  const { port, baudRate, timeoutMs, retries, requireChecksum, reopenMinMs, reopenMaxMs } = o;
  return { port, baudRate, timeoutMs, retries, requireChecksum, reopenMinMs, reopenMaxMs };
}

export class RapiError extends Error {
  override name = 'RapiError';
  constructor(
    message: string,
    /** The board answered $NK (as opposed to not answering or garbling). */
    readonly refused: boolean,
    readonly args: string[] = [],
  ) {
    super(message);
  }

  /** No $OK / $NK came back (port gone, timeout, garbled): hal/errors.ts isUndelivered. */
  get undelivered(): boolean {
    return !this.refused;
  }
}

export interface RapiLinkEvents {
  notice: [cmd: string, args: string[]];
  open: [];
  lost: [reason: string];
}

interface Pending {
  resolve: (r: { ok: boolean; args: string[] }) => void;
  reject: (e: Error) => void;
  timer: TimerHandle;
}

export class RapiLink extends TypedEmitter<RapiLinkEvents> {
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private users = 0;
  /** What the parts on this board agreed on: see hal/serial/pilot-rapi.ts. */
  readonly board = { pwmAmps: 0, contactorAllowed: false, evseState: 0, pilotCode: 0 };

  constructor(
    readonly options: RapiLinkOptions,
    private readonly deps: HalDeps,
    private readonly port = new ManagedPort(
      { path: options.port, baudRate: options.baudRate, lineDelimiter: '\r', reopenMinMs: options.reopenMinMs, reopenMaxMs: options.reopenMaxMs },
      deps,
    ),
  ) {
    super(deps.log);
    port.on('line', (l) => this.onLine(l));
    port.on('open', () => this.emit('open'));
    port.on('lost', (r) => {
      this.failPending(new RapiError(`port lost: ${r}`, false));
      this.emit('lost', r);
    });
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  start(): Promise<boolean> {
    return this.port.start();
  }

  /** Send a command and resolve with the arguments of its $OK; rejects after the retries. */
  command(cmd: string, args: readonly (string | number)[] = [], opts: { nkWithArgsIsFinal?: boolean } = {}): Promise<string[]> {
    const run = this.queue.then(() => this.attempt(cmd, args, opts.nkWithArgsIsFinal ?? false));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt(cmd: string, args: readonly (string | number)[], nkWithArgsIsFinal: boolean): Promise<string[]> {
    let last: RapiError | undefined;
    for (let i = 0; i <= this.options.retries; i++) {
      let reply: { ok: boolean; args: string[] };
      try {
        reply = await this.exchange(cmd, args);
      } catch (err) {
        last = err instanceof RapiError ? err : new RapiError((err as Error).message, false);
        if (!this.port.isOpen) break;
        this.deps.log.debug('RAPI retry', { cmd, attempt: i + 1, err: last.message });
        continue;
      }
      if (reply.ok) return reply.args;
      last = new RapiError(`$${cmd} refused ($NK ${reply.args.join(' ')})`, true, reply.args);
      // e.g. `$SC 40` → `$NK 32`: the board answered with what it did; asking again changes nothing.
      if (nkWithArgsIsFinal && reply.args.length > 0) break;
      this.deps.log.debug('RAPI retry', { cmd, attempt: i + 1, err: last.message });
    }
    throw last ?? new RapiError(`$${cmd} failed`, false);
  }

  private async exchange(cmd: string, args: readonly (string | number)[]): Promise<{ ok: boolean; args: string[] }> {
    const reply = new Promise<{ ok: boolean; args: string[] }>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        this.pending = undefined;
        reject(new RapiError(`$${cmd}: no reply within ${this.options.timeoutMs} ms`, false));
      }, this.options.timeoutMs);
      this.pending = { resolve, reject, timer };
    });
    // The reply may time out while the write is still draining; it is awaited below, never dropped.
    reply.catch(() => undefined);
    try {
      await this.port.write(frame(cmd, args));
    } catch (err) {
      this.failPending(new RapiError(`$${cmd}: write failed: ${(err as Error).message}`, false));
    }
    return reply;
  }

  private failPending(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.deps.clock.clear(p.timer);
    p.reject(err);
  }

  private onLine(raw: string): void {
    if (raw.trim() === '') return;
    const line = parseLine(raw, this.options.requireChecksum);
    if (line.kind === 'bad') {
      this.deps.log.warn('RAPI: ignoring line', { reason: line.reason });
      // A garbled reply is as good as none: fail the command now so that it is retried.
      if (/^\s*\$[ON]K/.test(raw)) this.failPending(new RapiError(line.reason, false));
      return;
    }
    if (line.kind === 'notice') {
      this.emit('notice', line.cmd, line.args);
      return;
    }
    const p = this.pending;
    if (!p) {
      this.deps.log.debug('RAPI: reply without a command', { raw });
      return;
    }
    this.pending = undefined;
    this.deps.clock.clear(p.timer);
    p.resolve({ ok: line.ok, args: line.args });
  }

  acquire(): this {
    this.users++;
    return this;
  }

  /** Closes the port when the last part using it lets go. */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    this.failPending(new RapiError('link closed', false));
    await this.port.close();
  }
}

/**
 * The pilot and the contactor of one OpenEVSE share its port through the driver context: the first
 * part opens the link (with the settings it was given), the others join it. The key is the port.
 */
export async function acquireRapiLink(options: RapiLinkOptions, ctx: DriverContext): Promise<RapiLink> {
  const link = await ctx.shared(`rapi:${options.port}`, async (log) => {
    const created = new RapiLink(linkOptionsOf(options), { clock: ctx.clock, log });
    await created.start();
    return created;
  });
  return link.acquire();
}
