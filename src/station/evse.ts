/**
 * The pilot/contactor layer of one EVSE: pilot state, PP cable rating, relay, PWM, lock, faults and
 * the relay's feedback. Its only input that is not hardware is a read-only view of the session on the
 * EVSE (SessionView, owned by Sessions); from both it alone commands the contactor, by one rule:
 *
 *   closed  ⇔  authorized ∧ EV ready (pilot C/D) ∧ no fault ∧ operative ∧ offered current > 0 ∧ locked
 *
 * Every input runs update() synchronously, and update() opens the contactor before it does anything
 * else, so the opening command leaves in the same tick as the event that required it. Each input
 * (a pilot change, a fault, a command, a change of the session view) then gives exactly one 'snapshot'
 * event; the station reads from it what changed (plug, status, charging state, power path).
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock } from '../../base/clock.js';
import type { EvseHal, FaultEvents, FaultSource, HalFault, HalFaultKind, MeterReading, PilotState } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { ChargingState, ConnectorState } from './api.js';
import { Contactor } from './contactor.js';
import { LockControl } from './connector-lock.js';
import { connectorStatus, MIN_PWM_AMPS, sameStatus, type SessionView } from './evse-status.js';

export { COMM_RETRY_MS, FEEDBACK_SETTLE_MS } from './contactor.js';
export { MIN_PWM_AMPS } from './evse-status.js';
export type { LockHolder, SessionView } from './evse-status.js';

/** Below this the EV is "not taking any energy" (1.6 SuspendedEV) although the contactor is closed. */
export const NOT_DRAWING_W = 50;
/** An EV may take a few seconds to start drawing after the contactor closes. */
export const DRAW_GRACE_MS = 10_000;

/** What made the EVSE look at its state again. */
export type SnapshotCause =
  /** The pilot changed state; `plugChanged` when the cable came or went with it. */
  | { kind: 'pilot'; previous: PilotState; plugChanged: boolean }
  | { kind: 'fault-raised'; fault: HalFault }
  | { kind: 'fault-cleared'; fault: HalFaultKind }
  /** Anything else: PP, lock, meter, a command of the station, a change of the session view. */
  | { kind: 'update' };

/** The EVSE after one input: one event per input, taken after the contactor was dealt with. */
export interface EvseSnapshot {
  evseId: number;
  pilot: PilotState;
  plugged: boolean;
  contactorClosed: boolean;
  offeredA: number;
  cause: SnapshotCause;
}

export interface EvseEvents {
  snapshot: [EvseSnapshot];
}

/** What the station learns from the EVSE since it last asked (EVSE.takeChanges). */
export interface EvseChanges {
  status?: ConnectorState;
  chargingState?: ChargingState;
  powerPath?: boolean;
}

export interface EvseOptions {
  hal: EvseHal;
  clock: Clock;
  /** The EVSE's own logger (`station:evse1`). */
  log: Logger;
  /** The session on this EVSE, as Sessions keep it; read only here. */
  session: SessionView;
  /** Keep the connector locked when the EV side unplugs during an authorized session. */
  keepLockedOnEvUnplug: () => boolean;
}

export class Evse extends TypedEmitter<EvseEvents> {
  readonly id: number;
  readonly hal: EvseHal;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly session: SessionView;
  private readonly keepLockedOnEvUnplug: () => boolean;
  private readonly contactor: Contactor;
  private readonly lockControl: LockControl;

  private pilotState: PilotState;
  private isPlugged: boolean;
  private live = false;
  private drawing = true;
  private closedAt = 0;
  private reserved = false;
  private evseOperative = true;
  private stationOperative = true;
  private stopped = false;
  private limitA: number | undefined;
  private readonly faults = new Map<HalFaultKind, HalFault>();
  private sessionWasActive = false;
  private lastStatus: ConnectorState | undefined;
  private lastChargingState: ChargingState | undefined;
  private powerPath = false;

  constructor(o: EvseOptions) {
    super(o.log);
    this.id = o.hal.id;
    this.hal = o.hal;
    this.clock = o.clock;
    this.log = o.log;
    this.session = o.session;
    this.keepLockedOnEvUnplug = o.keepLockedOnEvUnplug;
    this.pilotState = o.hal.pilot.state;
    this.isPlugged = isPluggedState(this.pilotState) ?? false;
    this.contactor = new Contactor({
      evseId: this.id,
      relay: o.hal.contactor,
      clock: o.clock,
      log: o.log,
      raise: (f) => this.raiseFault(f),
      clear: (k) => this.clearFault(k),
      fault: (k) => this.faults.get(k),
      stopped: () => this.stopped,
    });
    this.lockControl = new LockControl({
      evseId: this.id,
      lock: o.hal.lock,
      log: o.log,
      contactorClosed: () => this.hal.contactor.commanded,
      hasFault: (k) => this.faults.has(k),
      raise: (f) => this.raiseFault(f),
      clear: (k) => this.clearFault(k),
      confirmed: () => this.update(),
    });
    this.wire();
    // Whatever the outputs were left at, start from the safe state.
    if (o.hal.contactor.commanded) this.command(false);
    if (o.hal.pilot.maxCurrent !== 0) this.applyPwm();
  }

  /**
   * Start reporting statuses: the next takeChanges() gives the current one (the adapters' first
   * StatusNotification); from then on a status is given on every change.
   */
  announce(): void {
    this.live = true;
    this.lastStatus = undefined;
  }

  private wire(): void {
    const { pilot, contactor, lock, meter } = this.hal;
    pilot.on('state', (s) => this.onPilot(s));
    pilot.on('pp', () => this.update());
    const parts: (TypedEmitter<FaultEvents> & FaultSource)[] = [pilot, contactor, meter, ...(lock ? [lock] : [])];
    for (const part of parts) {
      part.on('fault', (f) => this.raiseFault(f));
      part.on('fault-cleared', (k) => {
        this.clearFault(k);
        if (k === 'port-lost' || k === 'pilot-board-lost') this.contactor.linkBack();
      });
      // Drivers raise faults while they are created (port missing, board silent), before this
      // listener existed: take them now, as if their event came at this moment.
      for (const f of part.activeFaults ?? []) this.raiseFault(f);
    }
    lock?.on('locked', () => this.update());
  }

  // ---- inputs -------------------------------------------------------------------------------

  private onPilot(s: PilotState): void {
    const prev = this.pilotState;
    if (s === prev) return;
    this.pilotState = s;
    const plugged = isPluggedState(s);
    const plugChanged = plugged !== undefined && plugged !== this.isPlugged;
    if (plugged !== undefined) this.isPlugged = plugged;
    this.update({ kind: 'pilot', previous: prev, plugChanged });
  }

  setReserved(reserved: boolean): void {
    this.reserved = reserved;
    this.update();
  }

  setOperative(operative: boolean): void {
    this.evseOperative = operative;
    this.update();
  }

  setStationOperative(operative: boolean): void {
    this.stationOperative = operative;
    this.update();
  }

  /** Smart-charging limit in A per phase; undefined = hardware maximum. */
  setLimit(amps: number | undefined): void {
    this.limitA = amps;
    this.update();
  }

  /** Station shutting down: the contactor stays open whatever else happens. */
  shutdown(): void {
    this.stopped = true;
    this.contactor.stop();
    this.update();
  }

  raiseFault(f: HalFault): void {
    const had = this.faults.get(f.kind);
    this.faults.set(f.kind, f);
    if (!had) this.log.warn('fault raised', { evse: this.id, kind: f.kind, severity: f.severity, detail: f.detail });
    this.update(had ? { kind: 'update' } : { kind: 'fault-raised', fault: f });
  }

  clearFault(kind: HalFaultKind): void {
    if (!this.faults.delete(kind)) return;
    this.log.info('fault cleared', { evse: this.id, kind });
    this.update({ kind: 'fault-cleared', fault: kind });
  }

  // ---- what the station reads ---------------------------------------------------------------

  get pilot(): PilotState {
    return this.pilotState;
  }
  get plugged(): boolean {
    return this.isPlugged;
  }
  get operative(): boolean {
    return this.evseOperative && this.stationOperative;
  }
  get evseOperativeSetting(): boolean {
    return this.evseOperative;
  }
  get limit(): number | undefined {
    return this.limitA;
  }
  get isReserved(): boolean {
    return this.reserved;
  }
  get highFault(): HalFault | undefined {
    for (const f of this.faults.values()) if (f.severity === 'high') return f;
    return undefined;
  }
  get activeFaults(): HalFault[] {
    return [...this.faults.values()];
  }
  /** May a new session start here (no high fault, operative)? */
  get usable(): boolean {
    return this.operative && !this.highFault && !this.stopped;
  }
  get contactorClosed(): boolean {
    return this.hal.contactor.commanded;
  }

  /** Authorized to take energy, as the session view says; never once the station shuts down. */
  private get authorized(): boolean {
    return this.session.authorized && !this.stopped;
  }

  /** The current the EV may draw right now (0 = no PWM). */
  offeredCurrent(): number {
    if (!this.authorized || !this.isPlugged || !this.operative || this.stopped || this.pilotFault()) return 0;
    for (const f of this.faults.values()) if (f.severity === 'high' || f.severity === 'low') return 0;
    let a = this.hal.maxCurrentA;
    if (this.limitA !== undefined) a = Math.min(a, this.limitA);
    const pp = this.hal.pilot.ppAmps;
    if (pp !== null && pp > 0) a = Math.min(a, pp);
    return a >= MIN_PWM_AMPS ? a : 0;
  }

  /** THE SAFETY RULE. */
  mayClose(): boolean {
    const evReady = this.pilotState === 'C' || this.pilotState === 'D';
    const lockOk = !this.hal.lock || this.hal.lock.locked;
    return this.authorized && evReady && this.faults.size === 0 && this.operative && !this.stopped && this.offeredCurrent() > 0 && lockOk;
  }

  connector(): ConnectorState {
    return this.lastStatus ?? this.computeStatus();
  }

  chargingState(): ChargingState {
    if (!this.isPlugged) return 'Idle';
    if (this.session.deauthorized && this.session.active) return 'SuspendedEVSE';
    if (!this.authorized) return 'EVConnected';
    const s = this.computeStatus().status;
    if (s === 'Charging' || s === 'SuspendedEV' || s === 'SuspendedEVSE') return s;
    return 'EVConnected';
  }

  /**
   * What changed since the last call: the connector status (once announced), the charging state and
   * the power path, each only when it differs from what was last given.
   */
  takeChanges(): EvseChanges {
    const out: EvseChanges = {};
    if (this.live) {
      const next = this.computeStatus();
      const prev = this.lastStatus;
      if (!prev || !sameStatus(prev, next)) {
        this.lastStatus = next;
        out.status = next;
      }
    }
    const cs = this.chargingState();
    if (cs !== this.lastChargingState) {
      this.lastChargingState = cs;
      out.chargingState = cs;
    }
    const closed = this.hal.contactor.commanded;
    if (this.powerPath !== closed) {
      this.powerPath = closed;
      out.powerPath = closed;
    }
    return out;
  }

  // ---- the state machine --------------------------------------------------------------------

  /**
   * Re-evaluate everything (also what the station calls when the session view changed). Synchronous:
   * the contactor is opened before any other work; then one 'snapshot' tells what the input was.
   */
  update(cause: SnapshotCause = { kind: 'update' }): void {
    const close = this.mayClose();
    const relay = this.hal.contactor;
    if (!close && relay.commanded) this.command(false);
    this.applyPwm();
    if (close && !relay.commanded) this.command(true);
    this.lockControl.apply(this.lockWanted());
    if (this.sessionWasActive && !this.session.active) this.contactor.forgetStuckOpen();
    this.sessionWasActive = this.session.active;
    this.emit('snapshot', {
      evseId: this.id,
      pilot: this.pilotState,
      plugged: this.isPlugged,
      contactorClosed: relay.commanded,
      offeredA: this.hal.pilot.maxCurrent,
      cause,
    });
  }

  /** A meter reading: an EV in C/D that takes no energy with the contactor closed is SuspendedEV. */
  noteReading(r: MeterReading): void {
    const evWants = this.pilotState === 'C' || this.pilotState === 'D';
    if (!this.hal.contactor.commanded || !evWants || r.at - this.closedAt < DRAW_GRACE_MS) return;
    const drawing = r.powerW >= NOT_DRAWING_W;
    if (drawing === this.drawing) return;
    this.drawing = drawing;
    this.update();
  }

  private command(closed: boolean): void {
    if (closed) {
      this.closedAt = this.clock.now();
      this.drawing = true;
    }
    this.contactor.command(closed);
  }

  private applyPwm(): void {
    const amps = this.offeredCurrent();
    if (amps === this.hal.pilot.maxCurrent) return;
    this.hal.pilot.setMaxCurrent(amps).catch((err: unknown) => {
      this.log.error('pilot PWM command failed', { evse: this.id, amps, err: String(err) });
    });
  }

  private lockWanted(): boolean {
    if (this.stopped) return false;
    if (this.session.lockHolder && this.hal.lock) return true;
    if (!this.authorized) return false;
    return this.isPlugged || (this.session.sawEv && this.keepLockedOnEvUnplug());
  }

  /** Unlock the connector (also the UnlockConnector command). Never while the contactor is closed. */
  unlockNow(): Promise<boolean> {
    return this.lockControl.unlock();
  }

  private pilotFault(): boolean {
    return this.pilotState === 'E' || this.pilotState === 'F';
  }

  private computeStatus(): ConnectorState {
    return connectorStatus({
      evseId: this.id,
      at: this.clock.now(),
      pilot: this.pilotState,
      plugged: this.isPlugged,
      faults: this.faults,
      operative: this.operative,
      reserved: this.reserved,
      session: this.session,
      authorized: this.authorized,
      limitA: this.limitA,
      contactorClosed: this.hal.contactor.commanded,
      drawing: this.drawing,
    });
  }
}

function isPluggedState(s: PilotState): boolean | undefined {
  if (s === 'A') return false;
  if (s === 'B' || s === 'C' || s === 'D') return true;
  return undefined; // E/F say nothing about the cable
}
