/**
 * The physical model of one simulated EVSE and the EV plugged into it.
 *
 * The EV: unplugged (A) → plugged (B, PP cable rating) → asks for energy (C, or D with ventilation)
 * only while a PWM limit is offered and its battery is not full → draws min(EV max, PWM limit) on its
 * phases while the contacts are closed → its state of charge rises with the energy → full: back to B.
 * The meter integrates power over clock time, piecewise constant between changes: before any change
 * (PWM, contactor, plug, fault …) the energy up to now is booked at the old power.
 *
 * Every input change goes through change(): integrate, mutate, then emit what the parts now report.
 * Events leave through the world's queue so that a listener reacting inside an event (the station
 * setting PWM on state B) never reorders what other listeners see.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { HalFault, HalFaultKind, MeterReading, Phase, PilotState, SimEvseStatus, SimFaultKind } from '../types.js';
import type { EvseProfile, SimEvOptions } from '../profile.js';
import { SimContactor, SimLock, SimMeter, SimPhaseSwitch, SimPilot, type SimEvseModel } from './parts.js';
import { METER_SILENT_AFTER_FAILED_READS } from './faults.js';

export interface EvParams {
  maxCurrentA: number;
  phases: 1 | 3;
  batteryKWh: number;
  startSocPercent: number;
  voltage: number;
  cableAmps: number;
  readyOnPlug: boolean;
  ventilation: boolean;
}

export const FREQUENCY_HZ = 50;

/** The virtual EV with its defaults; the profile schema (hal/profile-schema.ts) checked the values. */
export function evParams(evse: EvseProfile): EvParams {
  const o: SimEvOptions = evse.ev ?? {};
  return {
    maxCurrentA: o.maxCurrentA ?? 32,
    phases: o.phases ?? evse.phases,
    batteryKWh: o.batteryKWh ?? 60,
    startSocPercent: o.startSocPercent ?? 20,
    voltage: o.voltage ?? 230,
    cableAmps: o.cableAmps ?? 32,
    readyOnPlug: o.readyOnPlug ?? true,
    ventilation: o.ventilation ?? false,
  };
}

/** What the world provides to every EVSE model. */
export interface SimWorldLink {
  clock: Clock;
  /** Run fn now, or after the event being emitted when called from inside a listener. */
  post(fn: () => void): void;
}

interface Outputs {
  pilot: PilotState;
  pp: number | null;
  feedback: boolean;
  locked: boolean;
}

const FULL_EPSILON = 1e-9;

export class SimEvse implements SimEvseModel {
  readonly pilot: SimPilot;
  readonly contactor: SimContactor;
  readonly lock: SimLock;
  readonly meter: SimMeter;
  readonly phaseSwitch: SimPhaseSwitch;
  /** What the phase switch supplies (the wiring until it is switched). */
  private supplied: 1 | 3;
  private suppliedLine: 1 | 2 | 3 = 1;

  private plugged = false;
  private wantsEnergy = false;
  private soc: number;
  private energyWh = 0;
  private lastUpdate: number;
  private pwm = 0;
  private commanded = false;
  private lockedNow = false;
  /** Contacts held closed by a weld, whatever is commanded. */
  private stuckClosed = false;
  private readonly faults = new Set<SimFaultKind>();
  /** HAL faults reported and not yet cleared, so each is raised once and cleared once. */
  private readonly raised = new Set<HalFaultKind>();
  private failedReads = 0;
  private fullTimer: TimerHandle | undefined;
  /** After Hal.close() no timer may be left behind, whatever is still called. */
  private closed = false;
  /** What the parts last reported through events. */
  private reported: Outputs;

  constructor(
    readonly id: number,
    private readonly evsePhases: 1 | 3,
    readonly ev: EvParams,
    private readonly world: SimWorldLink,
  ) {
    this.soc = ev.startSocPercent;
    this.lastUpdate = world.clock.now();
    this.pilot = new SimPilot(this);
    this.contactor = new SimContactor(this);
    this.lock = new SimLock(this);
    this.phaseSwitch = new SimPhaseSwitch(this);
    this.supplied = evsePhases;
    this.meter = new SimMeter(
      this,
      () => this.faults.has('meter-silent'),
      () => this.failedRead(),
    );
    this.reported = this.outputs();
  }

  // ---- what the parts report ----

  get pilotState(): PilotState {
    if (this.faults.has('pilot-e')) return 'E';
    if (this.faults.has('pilot-f')) return 'F';
    if (!this.plugged) return 'A';
    if (this.wantsEnergy && !this.full && this.pwm > 0) return this.ev.ventilation ? 'D' : 'C';
    return 'B';
  }

  get ppAmps(): number | null {
    return this.plugged ? this.ev.cableAmps : null;
  }

  get pwmAmps(): number {
    return this.pwm;
  }

  get contactorCommanded(): boolean {
    return this.commanded;
  }

  get contactsClosed(): boolean {
    return this.commanded || this.stuckClosed;
  }

  get locked(): boolean {
    return this.lockedNow;
  }

  private get full(): boolean {
    return this.soc >= 100 - FULL_EPSILON;
  }

  /** Phases the EV draws on: the fewest of the EV's charger, the EVSE's wiring and what the phase switch supplies. */
  private get drawPhases(): Phase[] {
    const n = Math.min(this.ev.phases, this.evsePhases, this.supplied);
    const lines: Phase[] = ['L1', 'L2', 'L3'];
    if (n === 1 && this.supplied === 1) return [lines[this.suppliedLine - 1]!];
    return lines.slice(0, n);
  }

  get suppliedPhases(): 1 | 3 {
    return this.supplied;
  }

  get suppliedPhase(): 1 | 2 | 3 {
    return this.suppliedLine;
  }

  setPhases(phases: 1 | 3, phase: 1 | 2 | 3): void {
    if (phases === 3 && this.evsePhases !== 3) throw new Error(`EVSE ${this.id}: wired for ${this.evsePhases} phase(s)`);
    this.change(() => {
      this.supplied = phases;
      this.suppliedLine = phase;
    });
  }

  /** Amperes per phase the EV draws right now. */
  get currentA(): number {
    const st = this.pilotState;
    if ((st !== 'C' && st !== 'D') || !this.contactsClosed || this.faults.has('rcd') || this.pwm <= 0) return 0;
    return Math.min(this.ev.maxCurrentA, this.pwm);
  }

  get powerW(): number {
    return this.currentA * this.ev.voltage * this.drawPhases.length;
  }

  // ---- inputs from the station (through the parts) ----

  setPwm(amps: number): void {
    if (!Number.isFinite(amps) || amps < 0) throw new Error(`EVSE ${this.id}: PWM limit must be a number ≥ 0, got ${amps}`);
    this.change(() => {
      this.pwm = amps;
    });
  }

  setContactor(closed: boolean): void {
    this.change(() => {
      this.commanded = closed;
      if (closed && this.faults.has('welded')) this.stuckClosed = true;
    });
    // A weld keeps the mirror contact closed: say so again after every open command.
    if (!closed && this.stuckClosed) this.post(() => this.contactor.fire('feedback', true));
  }

  setLock(locked: boolean): boolean {
    if (this.faults.has('lock')) {
      this.raise({ kind: 'lock-failure', severity: 'low', detail: `simulated lock did not ${locked ? 'lock' : 'unlock'}` }, 'lock');
      return false;
    }
    this.change(() => {
      this.lockedNow = locked;
    });
    return true;
  }

  readMeter(): MeterReading {
    this.integrate();
    this.sync();
    const a = this.currentA;
    const currentA: Partial<Record<Phase, number>> = {};
    const voltageV: Partial<Record<Phase, number>> = {};
    const drawing = new Set(this.drawPhases);
    for (const p of ['L1', 'L2', 'L3'].slice(0, this.evsePhases) as Phase[]) {
      currentA[p] = drawing.has(p) ? a : 0;
      voltageV[p] = this.ev.voltage;
    }
    const reading: MeterReading = {
      at: this.world.clock.now(),
      energyImportWh: this.energyWh,
      energyExportWh: 0,
      powerW: this.powerW,
      currentA,
      voltageV,
      frequencyHz: FREQUENCY_HZ,
    };
    if (this.plugged) reading.socPercent = this.soc;
    return reading;
  }

  // ---- inputs from the outside world (SimControl) ----

  plug(): void {
    if (this.plugged) return;
    this.change(() => {
      this.plugged = true;
      this.wantsEnergy = false;
      this.soc = this.ev.startSocPercent;
    });
    // Through B on the way to C, as a real EV does, so the station sees the cable first.
    if (this.ev.readyOnPlug) this.change(() => (this.wantsEnergy = true));
  }

  unplug(): void {
    if (!this.plugged) return;
    this.change(() => {
      this.plugged = false;
      this.wantsEnergy = false;
    });
  }

  setWantsEnergy(wants: boolean): void {
    if (!this.plugged) throw new Error(`EVSE ${this.id}: no EV plugged in`);
    this.change(() => (this.wantsEnergy = wants));
  }

  injectFault(kind: SimFaultKind): void {
    if (this.faults.has(kind)) return;
    this.change(() => {
      this.faults.add(kind);
      if (kind === 'welded' && this.commanded) this.stuckClosed = true;
    });
    if (kind === 'pilot-e' || kind === 'pilot-f') {
      this.raise({ kind: 'pilot-error', severity: 'high', detail: `pilot state ${this.pilotState}` }, 'pilot');
    } else if (kind === 'rcd') {
      this.raise({ kind: 'rcd-trip', severity: 'high', detail: 'residual current device tripped' }, 'pilot');
    }
    // 'lock' and 'meter-silent' show when the part is used; 'welded' shows as feedback on opening.
  }

  clearFault(kind: SimFaultKind): void {
    if (!this.faults.has(kind)) return;
    this.change(() => {
      this.faults.delete(kind);
      if (kind === 'welded') this.stuckClosed = false;
      if (kind === 'meter-silent') this.failedReads = 0;
    });
    switch (kind) {
      case 'pilot-e':
      case 'pilot-f':
        if (!this.faults.has('pilot-e') && !this.faults.has('pilot-f')) this.clearRaised('pilot-error', 'pilot');
        break;
      case 'rcd':
        this.clearRaised('rcd-trip', 'pilot');
        break;
      case 'lock':
        this.clearRaised('lock-failure', 'lock');
        break;
      case 'meter-silent':
        this.clearRaised('meter-silent', 'meter');
        break;
      default:
        break;
    }
  }

  get activeFaults(): SimFaultKind[] {
    return [...this.faults];
  }

  status(): SimEvseStatus {
    this.integrate();
    this.sync();
    return {
      id: this.id,
      plugged: this.plugged,
      pilot: this.pilotState,
      pwmAmps: this.pwm,
      phases: this.drawPhases.length,
      contactorClosed: this.contactsClosed,
      locked: this.lockedNow,
      powerW: this.powerW,
      energyWh: this.energyWh,
      socPercent: this.soc,
      faults: this.activeFaults,
    };
  }

  close(): void {
    this.closed = true;
    this.world.clock.clear(this.fullTimer);
    this.fullTimer = undefined;
  }

  // ---- the physics ----

  /** Books the energy from the last update to now at the power that held over that interval. */
  private integrate(): void {
    const now = this.world.clock.now();
    const dtMs = now - this.lastUpdate;
    this.lastUpdate = now;
    const p = this.powerW;
    if (dtMs <= 0 || p <= 0) return;
    const capacityWh = this.ev.batteryKWh * 1000;
    const roomWh = ((100 - this.soc) / 100) * capacityWh;
    const wh = Math.min((p * dtMs) / 3_600_000, roomWh);
    this.energyWh += wh;
    this.soc = wh >= roomWh ? 100 : this.soc + (wh / capacityWh) * 100;
  }

  private outputs(): Outputs {
    return { pilot: this.pilotState, pp: this.ppAmps, feedback: this.contactsClosed, locked: this.lockedNow };
  }

  private change(mutate: () => void): void {
    this.integrate();
    mutate();
    this.sync();
  }

  /** Emits whatever the parts report differently from what they last reported. */
  private sync(): void {
    const before = this.reported;
    const after = this.outputs();
    this.reported = after;
    // Proximity before pilot when a cable goes in; pilot before proximity when it comes out.
    const ppFirst = after.pp !== null;
    if (ppFirst && after.pp !== before.pp) this.post(() => this.pilot.fire('pp', after.pp));
    if (after.pilot !== before.pilot) this.post(() => this.pilot.fire('state', after.pilot));
    if (!ppFirst && after.pp !== before.pp) this.post(() => this.pilot.fire('pp', after.pp));
    if (after.feedback !== before.feedback) this.post(() => this.contactor.fire('feedback', after.feedback));
    if (after.locked !== before.locked) this.post(() => this.lock.fire('locked', after.locked));
    this.scheduleFull();
  }

  /** While the EV draws, wake up when its battery will be full so that it drops to B on time. */
  private scheduleFull(): void {
    this.world.clock.clear(this.fullTimer);
    this.fullTimer = undefined;
    const p = this.powerW;
    if (p <= 0 || this.closed) return;
    const roomWh = ((100 - this.soc) / 100) * this.ev.batteryKWh * 1000;
    const ms = Math.max(1, Math.ceil((roomWh / p) * 3_600_000));
    this.fullTimer = this.world.clock.setTimeout(() => {
      this.fullTimer = undefined;
      this.change(() => undefined); // the integration reaches full: sync reports B
    }, ms);
  }

  private failedRead(): void {
    this.failedReads++;
    if (this.failedReads >= METER_SILENT_AFTER_FAILED_READS) {
      this.raise({ kind: 'meter-silent', severity: 'low', detail: `${this.failedReads} meter reads failed` }, 'meter');
    }
  }

  private raise(fault: HalFault, part: 'pilot' | 'lock' | 'meter'): void {
    if (this.raised.has(fault.kind)) return;
    this.raised.add(fault.kind);
    this.post(() => this.faultEmitter(part).fire('fault', fault));
  }

  private clearRaised(kind: HalFaultKind, part: 'pilot' | 'lock' | 'meter'): void {
    if (!this.raised.delete(kind)) return;
    this.post(() => this.faultEmitter(part).fire('fault-cleared', kind));
  }

  private faultEmitter(part: 'pilot' | 'lock' | 'meter'): { fire: SimMeter['fire'] } {
    // Every part's events include FaultEvents; the meter's fire has exactly that signature.
    return this[part] as unknown as SimMeter;
  }

  private post(fn: () => void): void {
    this.world.post(fn);
  }
}
