/**
 * Pilot board speaking our line protocol (docs/pilot-line-protocol.md). The board's own
 * microcontroller generates the PWM, measures the pilot and PP, and opens the contactor on its own
 * when the host stops heartbeating; this driver turns its lines into PilotController events and
 * treats a silent board as lost (state F, fault pilot-board-lost).
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { HalDeps, HalFault, HalFaultKind, PilotController, PilotEvents, PilotState } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { linePilotRules, linePilotSchema } from './schemas.js';
import { UndeliveredError } from '../errors.js';
import { ManagedPort } from './port.js';

export interface LinePilotOptions {
  port: string;
  baudRate: number;
  /** How often the host sends `HB n`. */
  heartbeatMs: number;
  /** Silence from the board longer than this raises pilot-board-lost. */
  boardTimeoutMs: number;
  /** How long create() waits for the board's first STATE line. */
  startupWaitMs: number;
  reopenMinMs: number;
  reopenMaxMs: number;
  /** Accept PWM currents above 80 A (IEC 61851 ends at 80 A). */
  allowAbove80A: boolean;
}

/** Options checked by hal/serial/schemas.ts linePilotSchema and its rules (defaults filled in). */
export function parseLinePilotOptions(raw: unknown, where = 'pilot options'): LinePilotOptions {
  return checkOptions<LinePilotOptions>(linePilotSchema, raw, where, linePilotRules);
}

/** Board error codes (`ERR <code>`) and what they mean to the station. */
const ERROR_CODES: Record<string, HalFaultKind> = {
  RCD: 'rcd-trip',
  DIODE: 'diode-failure',
  GROUND: 'ground-failure',
  OVERTEMP: 'high-temperature',
  OVERCURRENT: 'overcurrent',
  WELDED: 'contactor-welded',
  PILOT: 'pilot-error',
};

const STATES: readonly PilotState[] = ['A', 'B', 'C', 'D', 'E', 'F'];

export class LinePilot extends TypedEmitter<PilotEvents> implements PilotController {
  private current: PilotState = 'F';
  private pp: number | null = null;
  private amps = 0;
  private hbOut = 0;
  private hbTimer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );
  /** Last pilot voltage the board reported (diagnostics only). */
  voltage: number | undefined;
  /** Last heartbeat counter the board sent. */
  boardHeartbeat: number | undefined;
  private closed = false;

  constructor(
    readonly options: LinePilotOptions,
    private readonly deps: HalDeps,
    private readonly port: ManagedPort = new ManagedPort(
      { path: options.port, baudRate: options.baudRate, lineDelimiter: '\n', reopenMinMs: options.reopenMinMs, reopenMaxMs: options.reopenMaxMs },
      deps,
    ),
  ) {
    super(deps.log);
    port.on('line', (l) => this.onLine(l));
    port.on('lost', (reason) => this.onPortLost(reason));
    port.on('open', () => this.onPortOpen());
  }

  get state(): PilotState {
    return this.current;
  }
  get ppAmps(): number | null {
    return this.pp;
  }
  get maxCurrent(): number {
    return this.amps;
  }
  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  /** Opens the port, starts both heartbeats and waits (bounded) for the board's first state. */
  async start(): Promise<void> {
    this.hbTimer = this.deps.clock.setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs);
    this.armWatchdog();
    const firstState = new Promise<void>((resolve) => {
      const done = (): void => {
        this.deps.clock.clear(t);
        this.off('state', done);
        resolve();
      };
      const t = this.deps.clock.setTimeout(done, this.options.startupWaitMs);
      this.on('state', done);
    });
    if (await this.port.start()) await firstState;
  }

  async setMaxCurrent(amps: number): Promise<void> {
    if (!Number.isFinite(amps) || amps < 0) throw new RangeError(`max current must be >= 0, got ${amps}`);
    if (amps > 0 && amps < 6) throw new RangeError(`IEC 61851 PWM starts at 6 A, got ${amps}`);
    if (amps > 80 && !this.options.allowAbove80A) throw new RangeError(`IEC 61851 PWM ends at 80 A, got ${amps}`);
    // The protocol takes one decimal: floor to it (never offer more than asked; at most one 0.1 A step less).
    this.amps = Math.floor(amps * 10 + 1e-9) / 10;
    if (!this.port.isOpen) {
      // The board stops PWM itself when the host goes quiet, so "off" is already true.
      if (this.amps === 0) return;
      throw new UndeliveredError(`pilot board port ${this.options.port} is not open`);
    }
    await this.port.write(`SET ${this.amps}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.clock.clear(this.hbTimer);
    this.deps.clock.clear(this.watchdog);
    if (this.port.isOpen) {
      this.amps = 0;
      await this.port.write('SET 0\n').catch(() => undefined);
    }
    await this.port.close();
  }

  private sendHeartbeat(): void {
    if (!this.port.isOpen) return;
    this.hbOut = (this.hbOut + 1) % 1000;
    this.port.write(`HB ${this.hbOut}\n`).catch((err: Error) => this.deps.log.debug('pilot heartbeat write failed', { err: err.message }));
  }

  private armWatchdog(): void {
    this.deps.clock.clear(this.watchdog);
    this.watchdog = this.deps.clock.setTimeout(() => this.onBoardSilent(), this.options.boardTimeoutMs);
  }

  private onBoardSilent(): void {
    this.watchdog = undefined;
    if (this.closed) return;
    this.deps.log.error('pilot board silent', { port: this.options.port, timeoutMs: this.options.boardTimeoutMs });
    this.faults.raise({ kind: 'pilot-board-lost', severity: 'high', detail: `no line from the pilot board for ${this.options.boardTimeoutMs} ms` });
    this.setState('F');
  }

  private onPortLost(reason: string): void {
    if (this.closed) return;
    this.faults.raise({ kind: 'port-lost', severity: 'high', detail: `${this.options.port}: ${reason}` });
    this.setState('F');
  }

  private onPortOpen(): void {
    this.faults.clear('port-lost');
    this.resync();
  }

  /** After a reconnect or a board reboot: ask for the full state and restate our current limit. */
  private resync(): void {
    this.port.write(`GET\nSET ${this.amps}\n`).catch((err: Error) => this.deps.log.warn('pilot resync failed', { err: err.message }));
  }

  private onLine(raw: string): void {
    const line = raw.trim();
    if (line === '') return;
    this.armWatchdog();
    if (this.faults.has('pilot-board-lost')) {
      this.faults.clear('pilot-board-lost');
      this.deps.log.info('pilot board back', { port: this.options.port });
      this.resync();
    }
    const [cmd, ...args] = line.split(/\s+/);
    switch (cmd?.toUpperCase()) {
      case 'STATE':
        return this.onStateLine(args, line);
      case 'PP':
        return this.onPp(args[0], line);
      case 'ERR':
        return this.onError(args[0]);
      case 'CLR':
        return this.onClear(args[0]);
      case 'HB':
        this.boardHeartbeat = Number(args[0]);
        return;
      case 'BOOT':
        this.deps.log.warn('pilot board rebooted', { firmware: args.join(' ') });
        this.resync();
        return;
      case 'PWM':
        return;
      default:
        this.deps.log.debug('pilot board: unknown line', { line });
    }
  }

  private onStateLine(args: string[], line: string): void {
    const s = args[0]?.toUpperCase() as PilotState | undefined;
    if (!s || !STATES.includes(s)) {
      this.deps.log.warn('pilot board: bad STATE line', { line });
      return;
    }
    const volts = args[1] ? Number.parseFloat(args[1]) : Number.NaN;
    this.voltage = Number.isFinite(volts) ? volts : undefined;
    if (s === 'E' || s === 'F') this.faults.raise({ kind: 'pilot-error', severity: 'high', detail: `pilot state ${s}${this.voltage !== undefined ? ` at ${this.voltage} V` : ''}` });
    else this.faults.clear('pilot-error');
    this.setState(s);
  }

  private onPp(arg: string | undefined, line: string): void {
    let amps: number | null;
    if (arg === undefined || /^(NONE|0)$/i.test(arg)) amps = null;
    else {
      amps = Number.parseFloat(arg);
      if (!Number.isFinite(amps) || amps <= 0) {
        this.deps.log.warn('pilot board: bad PP line', { line });
        return;
      }
    }
    if (amps === this.pp) return;
    this.pp = amps;
    this.emit('pp', amps);
  }

  private onError(code: string | undefined): void {
    const c = (code ?? 'UNKNOWN').toUpperCase();
    const kind = ERROR_CODES[c] ?? 'pilot-error';
    this.faults.raise({ kind, severity: 'high', detail: `pilot board reports ${c}`, vendorCode: c });
  }

  private onClear(code: string | undefined): void {
    const c = (code ?? '').toUpperCase();
    if (c === 'ALL') {
      for (const f of this.faults.list()) if (f.kind !== 'pilot-board-lost' && f.kind !== 'port-lost') this.faults.clear(f.kind);
      return;
    }
    const kind = ERROR_CODES[c];
    if (kind) this.faults.clear(kind);
  }

  private setState(s: PilotState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('state', s);
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<LinePilot> {
  const pilot = new LinePilot(parseLinePilotOptions(options), ctx);
  await pilot.start();
  return pilot;
}
