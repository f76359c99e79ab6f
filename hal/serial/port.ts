/**
 * A serial port that comes back. USB adapters vanish (cable pulled, hub reset) and reappear; the
 * station must not need a restart for that. The port reports 'lost' at once, retries the open with
 * a doubling back-off on the injected clock, and reports 'open' again when it is back, so the
 * driver on top can raise and clear its 'port-lost' fault and resynchronise with the device.
 */
import { access } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { ReadlineParser } from '@serialport/parser-readline';
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { HalDeps } from '../types.js';
import { UndeliveredError } from '../errors.js';

export interface ManagedPortOptions {
  path: string;
  baudRate: number;
  /** When set, incoming bytes are also split into lines (delimiter removed, trailing \r trimmed). */
  lineDelimiter?: string;
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /**
   * How often to check that the device node still exists. A pulled USB adapter removes it, but a
   * port nobody writes to may not notice otherwise. 0 disables the check.
   */
  probeMs?: number;
}

export interface ManagedPortEvents {
  open: [];
  lost: [reason: string];
  data: [chunk: Buffer];
  line: [line: string];
}

export class ManagedPort extends TypedEmitter<ManagedPortEvents> {
  private port: SerialPort | undefined;
  private retry: TimerHandle | undefined;
  private probe: TimerHandle | undefined;
  private delay: number;
  private closed = false;
  private opened = false;

  constructor(
    private readonly opts: ManagedPortOptions,
    private readonly deps: HalDeps,
  ) {
    super(deps.log);
    this.delay = opts.reopenMinMs ?? 1000;
  }

  get isOpen(): boolean {
    return this.opened;
  }

  get path(): string {
    return this.opts.path;
  }

  /** Resolves after the first open attempt, whether it worked or not (a failure schedules retries). */
  async start(): Promise<boolean> {
    const every = this.opts.probeMs ?? 2000;
    if (every > 0) this.probe = this.deps.clock.setInterval(() => this.checkNode(), every);
    return this.tryOpen();
  }

  async write(data: string | Buffer): Promise<void> {
    const port = this.port;
    if (!port || !this.opened) throw new UndeliveredError(`serial port ${this.opts.path} is not open`);
    // A failed write (device unplugged under us) is a command that did not reach the device.
    const undelivered = (err: Error): UndeliveredError => new UndeliveredError(`serial port ${this.opts.path}: ${err.message}`);
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => (err ? reject(undelivered(err)) : resolve()));
    });
    await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(undelivered(err)) : resolve())));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.deps.clock.clear(this.retry);
    this.deps.clock.clear(this.probe);
    this.retry = undefined;
    await this.dispose();
  }

  private async tryOpen(): Promise<boolean> {
    if (this.closed) return false;
    const port = new SerialPort({ path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false });
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.lose(`open failed: ${(err as Error).message}`);
      return false;
    }
    if (this.closed) {
      await closePort(port);
      return false;
    }
    this.port = port;
    this.opened = true;
    this.delay = this.opts.reopenMinMs ?? 1000;
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    if (this.opts.lineDelimiter !== undefined) {
      const parser = port.pipe(new ReadlineParser({ delimiter: this.opts.lineDelimiter, encoding: 'latin1' }));
      parser.on('data', (line: string) => this.emit('line', line.replace(/\r$/, '')));
    }
    port.on('error', (err: Error) => this.onGone(port, `error: ${err.message}`));
    port.on('close', () => this.onGone(port, 'closed'));
    this.deps.log.info('serial port open', { path: this.opts.path, baudRate: this.opts.baudRate });
    this.emit('open');
    return true;
  }

  private checkNode(): void {
    const port = this.port;
    if (!port) return;
    access(this.opts.path).catch(() => this.onGone(port, 'device node vanished'));
  }

  private onGone(port: SerialPort, reason: string): void {
    if (port !== this.port || this.closed) return;
    void this.dispose();
    this.lose(reason);
  }

  private lose(reason: string): void {
    this.opened = false;
    this.deps.log.warn('serial port lost', { path: this.opts.path, reason, retryMs: this.delay });
    this.emit('lost', reason);
    if (this.closed || this.retry) return;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.opts.reopenMaxMs ?? 30_000);
    this.retry = this.deps.clock.setTimeout(() => {
      this.retry = undefined;
      void this.tryOpen();
    }, wait);
  }

  private async dispose(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.opened = false;
    if (port) await closePort(port);
  }
}

async function closePort(port: SerialPort): Promise<void> {
  port.removeAllListeners('data');
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}
