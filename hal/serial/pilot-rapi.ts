/**
 * OpenEVSE as the pilot controller, over RAPI. The board generates the pilot and closes its own
 * relay in state C/D while enabled, so here "PWM off" is the board's sleep state ($FS) and
 * "PWM n A" is `$SC n V` (volatile: no EEPROM wear) followed by `$FE` when it was asleep.
 * The board's EVSE state codes become pilot states and faults (hal/serial/rapi-protocol.ts).
 * $GS is polled: it catches notices we missed and doubles as the board heartbeat.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { HalDeps, HalFault, HalFaultKind, PilotController, PilotEvents, PilotState } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { EVSE_STATE_DISABLED, EVSE_STATE_SLEEPING, mapEvseState, mapPilotCode } from './rapi-protocol.js';
import { acquireRapiLink, RapiError, type RapiLink, type RapiLinkOptions } from './rapi-link.js';
import { rapiPilotRules, rapiPilotSchema } from './schemas.js';

export interface RapiPilotOptions extends RapiLinkOptions {
  pollMs: number;
  /** Consecutive failed $GS polls before pilot-board-lost. */
  failuresBeforeLost: number;
  /**
   * Heartbeat supervision ($SY, firmware 5.x+): when > 0 the board falls back to supervisionAmps
   * by itself if the host sends no pulse for this many seconds (a hung daemon). 0 = off.
   */
  supervisionS: number;
  supervisionAmps: number;
}

/** Options checked by hal/serial/schemas.ts rapiPilotSchema and its rules (defaults filled in). */
export function parseRapiPilotOptions(raw: unknown, where = 'pilot options'): RapiPilotOptions {
  return checkOptions<RapiPilotOptions>(rapiPilotSchema, raw, where, rapiPilotRules);
}

/** Faults the board's state codes can raise (cleared when the board leaves the fault state). */
const BOARD_FAULTS: readonly HalFaultKind[] = [
  'diode-failure',
  'rcd-trip',
  'ground-failure',
  'contactor-welded',
  'contactor-stuck-open',
  'high-temperature',
  'overcurrent',
];

export class RapiPilot extends TypedEmitter<PilotEvents> implements PilotController {
  private current: PilotState = 'F';
  private pollTimer: TimerHandle | undefined;
  private pollFailures = 0;
  private nkFault = false;
  private closed = false;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );
  private readonly onNotice = (cmd: string, args: string[]): void => this.notice(cmd, args);
  private readonly onLost = (reason: string): void => {
    this.faults.raise({ kind: 'port-lost', severity: 'high', detail: `${this.options.port}: ${reason}` });
    this.setState('F');
  };
  private readonly onOpen = (): void => {
    this.faults.clear('port-lost');
    void this.resync();
  };

  constructor(
    readonly options: RapiPilotOptions,
    private readonly deps: HalDeps,
    readonly link: RapiLink,
  ) {
    super(deps.log);
    link.on('notice', this.onNotice);
    link.on('lost', this.onLost);
    link.on('open', this.onOpen);
  }

  get state(): PilotState {
    return this.current;
  }
  /** OpenEVSE does not report the proximity pilot. */
  get ppAmps(): number | null {
    return null;
  }
  get maxCurrent(): number {
    return this.link.board.pwmAmps;
  }
  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  async start(): Promise<void> {
    this.pollTimer = this.deps.clock.setInterval(() => void this.poll(), this.options.pollMs);
    if (this.link.isOpen) await this.resync();
  }

  /** Safe first: put the board to sleep (no PWM) until the station sets a current, then read the state. */
  private async resync(): Promise<void> {
    try {
      await this.applyPwm();
      if (this.options.supervisionS > 0) {
        await this.link.command('SY', [this.options.supervisionS, this.options.supervisionAmps]).catch((err: Error) =>
          this.deps.log.warn('OpenEVSE refused heartbeat supervision ($SY); the board will not limit itself if the host hangs', { err: err.message }),
        );
      }
      await this.poll();
    } catch (err) {
      this.deps.log.warn('RAPI resync failed', { err: (err as Error).message });
    }
  }

  async setMaxCurrent(amps: number): Promise<void> {
    if (!Number.isFinite(amps) || amps < 0) throw new RangeError(`max current must be >= 0, got ${amps}`);
    if (amps > 0 && amps < 6) throw new RangeError(`IEC 61851 PWM starts at 6 A, got ${amps}`);
    this.link.board.pwmAmps = Math.floor(amps);
    await this.applyPwm();
  }

  /** Drive the board to what pwmAmps and the contactor permission say. */
  async applyPwm(): Promise<void> {
    const b = this.link.board;
    if (b.pwmAmps === 0) {
      await this.run('FS');
      b.evseState = EVSE_STATE_SLEEPING;
      return;
    }
    const set = await this.run('SC', [b.pwmAmps, 'V']).catch((err: unknown) => {
      // $NK with a number: the board clamped the value to its own limits.
      if (err instanceof RapiError && err.refused && err.args[0] !== undefined && Number.isFinite(Number(err.args[0]))) return err.args;
      throw err;
    });
    const applied = Number(set[0]);
    if (Number.isFinite(applied) && applied !== b.pwmAmps) {
      if (applied > b.pwmAmps) {
        await this.run('FS');
        b.pwmAmps = 0;
        throw new RangeError(`OpenEVSE set ${applied} A instead of ${b.pwmAmps} A (above the request): put to sleep`);
      }
      this.deps.log.warn('OpenEVSE clamped the current', { requested: b.pwmAmps, applied });
      b.pwmAmps = applied;
    }
    if (b.evseState === EVSE_STATE_SLEEPING || b.evseState === EVSE_STATE_DISABLED || b.evseState === 0) {
      await this.run('FE');
      b.evseState = 0;
    }
  }

  /** Send a command; after the retries a refusal raises pilot-error (low) until a command succeeds. */
  async run(cmd: string, args: (string | number)[] = []): Promise<string[]> {
    try {
      const r = await this.link.command(cmd, args, { nkWithArgsIsFinal: cmd === 'SC' });
      if (this.nkFault) {
        this.nkFault = false;
        this.faults.clear('pilot-error');
      }
      return r;
    } catch (err) {
      if (err instanceof RapiError && err.refused && !(cmd === 'SC' && err.args.length > 0)) {
        this.nkFault = true;
        this.faults.raise({ kind: 'pilot-error', severity: 'low', detail: err.message, vendorCode: `RAPI-NK-${cmd}` });
      }
      throw err;
    }
  }

  private async poll(): Promise<void> {
    if (this.closed || !this.link.isOpen) return;
    let args: string[];
    try {
      args = await this.link.command('GS');
    } catch (err) {
      this.pollFailures++;
      this.deps.log.debug('RAPI $GS failed', { err: (err as Error).message, failures: this.pollFailures });
      if (this.pollFailures >= this.options.failuresBeforeLost) {
        this.faults.raise({ kind: 'pilot-board-lost', severity: 'high', detail: `OpenEVSE did not answer ${this.pollFailures} polls` });
        this.setState('F');
      }
      return;
    }
    this.pollFailures = 0;
    this.faults.clear('pilot-board-lost');
    if (this.options.supervisionS > 0) void this.pulse();
    // $OK evsestate elapsed pilotstate vflags (evsestate and pilotstate in hex)
    this.apply(parseInt(args[0] ?? '', 16), parseInt(args[2] ?? '', 16));
  }

  /** A supervision pulse; $NK means a pulse was missed earlier, which must be acknowledged (165 = 0xA5). */
  private async pulse(): Promise<void> {
    try {
      await this.link.command('SY', [], { nkWithArgsIsFinal: true });
    } catch (err) {
      if (!(err instanceof RapiError && err.refused)) return;
      this.deps.log.warn('OpenEVSE reports a missed host heartbeat; acknowledging');
      await this.link.command('SY', [165]).catch(() => undefined);
    }
  }

  private notice(cmd: string, args: string[]): void {
    if (cmd === 'ST') this.apply(parseInt(args[0] ?? '', 16), Number.NaN);
    else if (cmd === 'AT') this.apply(parseInt(args[0] ?? '', 16), parseInt(args[1] ?? '', 16));
    else if (cmd === 'AB') {
      this.deps.log.warn('OpenEVSE rebooted', { post: args[0], firmware: args[1] });
      void this.resync();
    }
  }

  private apply(evseCode: number, pilotCode: number): void {
    if (!Number.isFinite(evseCode)) return;
    this.link.board.evseState = evseCode;
    if (Number.isFinite(pilotCode)) this.link.board.pilotCode = pilotCode;
    const meaning = mapEvseState(evseCode);
    for (const k of BOARD_FAULTS) if (k !== meaning.fault?.kind) this.faults.clear(k);
    if (!this.nkFault && meaning.fault?.kind !== 'pilot-error') this.faults.clear('pilot-error');
    if (meaning.fault) this.faults.raise({ kind: meaning.fault.kind, severity: 'high', detail: `OpenEVSE: ${meaning.fault.detail}`, vendorCode: `EVSE_STATE_${evseCode}` });
    let pilot = meaning.pilot;
    if (pilot === undefined && (evseCode === EVSE_STATE_SLEEPING || evseCode === EVSE_STATE_DISABLED)) {
      // Asleep or disabled the board still reads the pilot; $ST does not carry it, so ask.
      if (!Number.isFinite(pilotCode)) {
        void this.poll();
        return;
      }
      pilot = mapPilotCode(pilotCode) ?? 'A';
    }
    if (pilot) this.setState(pilot);
  }

  private setState(s: PilotState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('state', s);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.clock.clear(this.pollTimer);
    this.link.board.pwmAmps = 0;
    if (this.link.isOpen) await this.link.command('FS').catch(() => undefined);
    this.link.off('notice', this.onNotice);
    this.link.off('lost', this.onLost);
    this.link.off('open', this.onOpen);
    await this.link.release();
  }
}

export async function create(options: unknown, ctx: DriverContext): Promise<RapiPilot> {
  const opts = parseRapiPilotOptions(options);
  const link = await acquireRapiLink(opts, ctx);
  const pilot = new RapiPilot(opts, ctx, link);
  await pilot.start();
  return pilot;
}
