/**
 * The faces of the simulated parts: each implements its hal/types.ts interface and forwards to the
 * EVSE model (hal/sim/evse.ts), which owns the physics and decides what each part reports.
 * `fire` is how the model makes a part emit; nothing outside hal/sim calls it.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { ConnectorLock, Display, DisplayEvents, EnergyMeter, FaultEvents, HalFault, HalFaultKind, IdReaderEvents, LockEvents, MeterReading, PhaseSwitch, PilotController, PilotEvents, PilotState, Relay, RelayEvents } from '../types.js';
import type { Logger } from '../../base/logger.js';
import { METER_SILENT_AFTER_FAILED_READS } from './faults.js';
import type { Clock } from '../../base/clock.js';
import { fromA00, layout, Pager } from '../display-text.js';

/** What the parts need from the EVSE model. */
export interface SimEvseModel {
  readonly pilotState: PilotState;
  readonly ppAmps: number | null;
  readonly pwmAmps: number;
  readonly contactorCommanded: boolean;
  readonly contactsClosed: boolean;
  readonly locked: boolean;
  setPwm(amps: number): void;
  setContactor(closed: boolean): void;
  setLock(locked: boolean): boolean;
  readMeter(): MeterReading;
  readonly suppliedPhases: 1 | 3;
  readonly suppliedPhase: 1 | 2 | 3;
  setPhases(phases: 1 | 3, phase: 1 | 2 | 3): void;
}

class Firing<E extends { [K in keyof E]: unknown[] }> extends TypedEmitter<E> {
  private readonly faults = new Map<HalFaultKind, HalFault>();

  /** Where the errors of this part's listeners are logged (the part's logger, `hal:evse1:pilot`). */
  useLog(log: Logger): void {
    this.setEmitterLog(log);
  }

  fire<K extends keyof E & string>(event: K, ...args: E[K]): void {
    // Kept like a real driver does, so that a fault fired before the station listened is not lost.
    if (event === 'fault') {
      const f = args[0] as HalFault;
      this.faults.set(f.kind, f);
    } else if (event === 'fault-cleared') this.faults.delete(args[0] as HalFaultKind);
    this.emit(event, ...args);
  }

  get activeFaults(): HalFault[] {
    return [...this.faults.values()];
  }
}

export class SimPilot extends Firing<PilotEvents> implements PilotController {
  constructor(private readonly model: SimEvseModel) {
    super();
  }
  get state(): PilotState {
    return this.model.pilotState;
  }
  get ppAmps(): number | null {
    return this.model.ppAmps;
  }
  get maxCurrent(): number {
    return this.model.pwmAmps;
  }
  async setMaxCurrent(amps: number): Promise<void> {
    this.model.setPwm(amps);
  }
}

/** A contactor with a mirror contact: feedback reports the contacts, which a weld keeps closed. */
export class SimContactor extends Firing<RelayEvents> implements Relay {
  constructor(private readonly model: SimEvseModel) {
    super();
  }
  get commanded(): boolean {
    return this.model.contactorCommanded;
  }
  get feedback(): boolean {
    return this.model.contactsClosed;
  }
  async set(closed: boolean): Promise<void> {
    this.model.setContactor(closed);
  }
}

export class SimLock extends Firing<LockEvents> implements ConnectorLock {
  constructor(private readonly model: SimEvseModel) {
    super();
  }
  get locked(): boolean {
    return this.model.locked;
  }
  async lock(): Promise<boolean> {
    return this.model.setLock(true);
  }
  async unlock(): Promise<boolean> {
    return this.model.setLock(false);
  }
}

/** The meter reads the model; `silent` is the injected fault, counted here like a real driver would. */
export class SimMeter extends Firing<FaultEvents> implements EnergyMeter {
  constructor(
    private readonly model: SimEvseModel,
    private readonly isSilent: () => boolean,
    private readonly onFailedRead: () => void,
  ) {
    super();
  }
  async read(): Promise<MeterReading> {
    if (this.isSilent()) {
      this.onFailedRead();
      throw new Error('simulated meter does not answer (fault meter-silent)');
    }
    return this.model.readMeter();
  }
}

/**
 * The meter of the building's other load at the grid connection (the site limit's meter): reports the
 * load the world is told (`sim building-load`), the same on every phase, and integrates its energy.
 */
export class SimSiteMeter extends Firing<FaultEvents> implements EnergyMeter {
  private loadA = 0;
  private energyWh = 0;
  private since: number;
  private failedReads = 0;
  silent = false;

  constructor(
    private readonly now: () => number,
    private readonly voltage = 230,
  ) {
    super();
    this.since = now();
  }

  get load(): number {
    return this.loadA;
  }

  setLoad(ampsPerPhase: number): void {
    this.book();
    this.loadA = ampsPerPhase;
  }

  setSilent(silent: boolean): void {
    this.silent = silent;
    if (!silent && this.failedReads > 0) {
      this.failedReads = 0;
      this.fire('fault-cleared', 'meter-silent');
    }
  }

  private book(): void {
    const t = this.now();
    this.energyWh += (this.loadA * this.voltage * 3 * (t - this.since)) / 3_600_000;
    this.since = t;
  }

  async read(): Promise<MeterReading> {
    if (this.silent) {
      if (++this.failedReads === METER_SILENT_AFTER_FAILED_READS) this.fire('fault', { kind: 'meter-silent', severity: 'low', detail: 'simulated site meter silent' });
      throw new Error('simulated site meter does not answer (site-meter silent)');
    }
    this.book();
    const a = this.loadA;
    const v = this.voltage;
    return {
      at: this.now(),
      energyImportWh: Math.round(this.energyWh * 1000) / 1000,
      powerW: a * v * 3,
      currentA: { L1: a, L2: a, L3: a },
      voltageV: { L1: v, L2: v, L3: v },
    };
  }
}

/** The phase-switch relay: the EV draws on what it supplies. */
export class SimPhaseSwitch implements PhaseSwitch {
  constructor(private readonly model: SimEvseModel) {}
  get phases(): 1 | 3 {
    return this.model.suppliedPhases;
  }
  get phase(): 1 | 2 | 3 {
    return this.model.suppliedPhase;
  }
  async setPhases(phases: 1 | 3, phase: 1 | 2 | 3 = 1): Promise<void> {
    this.model.setPhases(phases, phase);
  }
}

/** Tokens are fired by the simulated world when someone taps (SimControl.tap). */
export class SimReader extends Firing<IdReaderEvents> {}

/**
 * A character display of cols × rows with the HD44780's ROM A00 (hal/display-text.ts): `rows` is what a
 * real LCD would show now (the current page, mapped back to Unicode), for `sim status`; `lines` the
 * logical lines last given.
 */
export class SimDisplay extends Firing<DisplayEvents> implements Display {
  lines: string[] = [];
  screen: string[] = [];
  cols = 20;
  rows = 4;
  private pager: Pager | undefined;
  constructor(private readonly log: Logger, private readonly clock?: Clock) {
    super();
  }
  configure(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
  }
  async show(lines: string[]): Promise<void> {
    this.lines = lines.slice();
    const pages = layout(lines, this.cols, this.rows);
    if (this.clock) {
      this.pager ??= new Pager(this.clock, async (rows) => {
        this.screen = rows.map(fromA00);
      });
      await this.pager.show(pages);
    } else this.screen = pages[0]!.map(fromA00);
    this.log.debug('display', { lines: this.lines });
  }
  close(): void {
    this.pager?.stop();
  }
}
