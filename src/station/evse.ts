/**
 * One EVSE as a state machine over pilot state × availability × faults × lock × relay ×
 * authorization × limit. It alone commands the contactor, following one rule:
 *
 *   closed  ⇔  authorized ∧ EV ready (pilot C/D) ∧ no fault ∧ operative ∧ offered current > 0 ∧ locked
 *
 * Every input change runs update() synchronously, and update() opens the contactor before it does
 * anything else, so the opening command leaves in the same tick as the event that required it.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { EvseHal, FaultEvents, FaultSource, HalFault, HalFaultKind, MeterReading, PilotState } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { ChargingState, ConnectorState, ConnectorStatus, ErrorCode } from './api.js';
import { errorCodeFor } from './faults.js';
import { isUndelivered } from '../../hal/errors.js';

/** IEC 61851-1: below 6 A there is no valid PWM, so the EV gets no offer at all. */
export const MIN_PWM_AMPS = 6;
/** Time the relay's mirror contact may take to follow a command before a mismatch is a fault. */
export const FEEDBACK_SETTLE_MS = 1000;
/** Below this the EV is "not taking any energy" (1.6 SuspendedEV) although the contactor is closed. */
export const NOT_DRAWING_W = 50;
/** An EV may take a few seconds to start drawing after the contactor closes. */
export const DRAW_GRACE_MS = 10_000;
/** While a contactor command could not be delivered, the open command is sent again this often. */
export const COMM_RETRY_MS = 2000;
const WELDED = 'feedback closed while commanded open';
const STUCK_OPEN = 'feedback open while commanded closed';

export interface EvseEvents {
  status: [ConnectorState];
  /** Cable plugged (pilot B/C/D) or unplugged (A); emitted after the contactor was dealt with. */
  plugged: [plugged: boolean];
  /** Pilot state changed (after the safety reaction). */
  pilot: [state: PilotState, previous: PilotState];
  'power-path': [closed: boolean];
  'charging-state': [ChargingState];
  'fault-raised': [HalFault];
  'fault-cleared': [HalFaultKind];
}

export interface LockHolder {
  idToken: string;
  groupId?: string;
}

export interface EvseOptions {
  hal: EvseHal;
  clock: Clock;
  log: Logger;
  /** Keep the connector locked when the EV side unplugs during an authorized session. */
  keepLockedOnEvUnplug: () => boolean;
}

export class Evse extends TypedEmitter<EvseEvents> {
  readonly id: number;
  readonly hal: EvseHal;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly keepLockedOnEvUnplug: () => boolean;

  private pilotState: PilotState;
  private isPlugged: boolean;
  private authorized = false;
  private sessionActive = false;
  private sessionSawEv = false;
  private finishing = false;
  private deauthorized = false;
  private live = false;
  private drawing = true;
  private closedAt = 0;
  private holder: LockHolder | undefined;
  /** A session ended with this cable in: the cable alone opens no new one until it is unplugged. */
  cableHandled = false;
  private reserved = false;
  private evseOperative = true;
  private stationOperative = true;
  private stopped = false;
  private limitA: number | undefined;
  private readonly faults = new Map<HalFaultKind, HalFault>();
  private locking = false;
  private unlocking = false;
  private feedbackTimer: TimerHandle | undefined;
  private commRetryTimer: TimerHandle | undefined;
  private lastStatus: ConnectorState | undefined;
  private lastChargingState: ChargingState | undefined;
  private powerPath = false;

  constructor(o: EvseOptions) {
    super();
    this.id = o.hal.id;
    this.hal = o.hal;
    this.clock = o.clock;
    this.log = o.log;
    this.keepLockedOnEvUnplug = o.keepLockedOnEvUnplug;
    this.pilotState = o.hal.pilot.state;
    this.isPlugged = isPluggedState(this.pilotState) ?? false;
    this.wire();
    // Whatever the outputs were left at, start from the safe state.
    if (o.hal.contactor.commanded) this.command(false);
    if (o.hal.pilot.maxCurrent !== 0) this.applyPwm();
  }

  /**
   * Start reporting statuses: emits the current one once (the adapters' first StatusNotification);
   * from then on a status is emitted on every change.
   */
  announce(): void {
    this.live = true;
    this.lastStatus = this.computeStatus();
    this.emit('status', this.lastStatus);
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
        // A part's link is back: the undelivered command need not wait for the next retry.
        if ((k === 'port-lost' || k === 'pilot-board-lost') && this.faults.has('comm-failure')) this.retryOpen();
      });
      // Drivers raise faults while they are created (port missing, board silent), before this
      // listener existed: take them now, as if their event came at this moment.
      for (const f of part.activeFaults ?? []) this.raiseFault(f);
    }
    contactor.on('feedback', () => this.scheduleFeedbackCheck());
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
    if (plugged === false) {
      this.finishing = false;
      this.cableHandled = false;
    }
    if (plugged && this.sessionActive) this.sessionSawEv = true;
    // Opening first; then the plug fact, so that the session records it before the status and
    // charging state that follow from it.
    if (!this.mayClose() && this.hal.contactor.commanded) this.command(false);
    if (plugChanged) this.emit('plugged', this.isPlugged);
    this.update();
    this.emit('pilot', s, prev);
  }

  /**
   * E09.FR.03: after an EV-side unplug ended the session, keep the cable locked in the socket until
   * its owner (token or group) presents again; undefined releases it.
   */
  holdLockFor(holder: LockHolder | undefined): void {
    this.holder = holder && this.hal.lock ? holder : undefined;
    this.update();
  }

  get lockHolder(): LockHolder | undefined {
    return this.holder;
  }

  /** A session is open on this EVSE (authorized or not). */
  setSession(active: boolean): void {
    this.sessionActive = active;
    this.deauthorized = false;
    this.sessionSawEv = active && this.isPlugged;
    if (active) this.finishing = false;
    this.update();
  }

  /** The session ended: drop authorization, and show Finishing while the cable stays in. */
  endSession(finishing: boolean): void {
    this.authorized = false;
    this.deauthorized = false;
    this.sessionActive = false;
    this.sessionSawEv = false;
    this.finishing = finishing && this.isPlugged;
    this.cableHandled = this.isPlugged;
    this.update();
    // The next session may try the contactor again.
    if (this.faults.get('contactor-stuck-open')?.detail === STUCK_OPEN) this.clearFault('contactor-stuck-open');
  }

  get isAuthorized(): boolean {
    return this.authorized;
  }

  setAuthorized(authorized: boolean): void {
    this.authorized = authorized;
    this.deauthorized = false;
    this.update();
  }

  /** The CSMS refused the token of a session that goes on (StopTransactionOnInvalidId false): no energy, SuspendedEVSE. */
  suspendDeauthorized(): void {
    this.authorized = false;
    this.deauthorized = true;
    this.update();
  }

  /** The session ended with the cable still in: Finishing until it is unplugged. */
  setFinishing(finishing: boolean): void {
    this.finishing = finishing && this.isPlugged;
    this.update();
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
    this.authorized = false;
    this.clock.clear(this.feedbackTimer);
    this.feedbackTimer = undefined;
    this.clock.clear(this.commRetryTimer);
    this.commRetryTimer = undefined;
    this.update();
  }

  raiseFault(f: HalFault): void {
    const had = this.faults.get(f.kind);
    this.faults.set(f.kind, f);
    this.update();
    if (!had) {
      this.log.warn('fault raised', { evse: this.id, kind: f.kind, severity: f.severity, detail: f.detail });
      this.emit('fault-raised', f);
    }
  }

  clearFault(kind: HalFaultKind): void {
    if (!this.faults.delete(kind)) return;
    this.update();
    this.log.info('fault cleared', { evse: this.id, kind });
    this.emit('fault-cleared', kind);
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
    if (this.deauthorized && this.sessionActive) return 'SuspendedEVSE';
    if (!this.authorized) return 'EVConnected';
    const s = this.computeStatus().status;
    if (s === 'Charging' || s === 'SuspendedEV' || s === 'SuspendedEVSE') return s;
    return 'EVConnected';
  }

  // ---- the state machine --------------------------------------------------------------------

  /** Re-evaluate everything. Synchronous: the contactor is opened before any other work. */
  update(): void {
    const close = this.mayClose();
    const relay = this.hal.contactor;
    if (!close && relay.commanded) this.command(false);
    this.applyPwm();
    if (close && !relay.commanded) this.command(true);
    this.applyLock();
    this.emitStatus();
    const cs = this.chargingState();
    if (cs !== this.lastChargingState) {
      this.lastChargingState = cs;
      this.emit('charging-state', cs);
    }
    if (this.powerPath !== relay.commanded) {
      this.powerPath = relay.commanded;
      this.emit('power-path', this.powerPath);
    }
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
    this.hal.contactor.set(closed).catch((err: unknown) => {
      this.log.error('contactor command failed', { evse: this.id, closed, err: String(err) });
      if (isUndelivered(err)) this.commFailed(closed, err);
      else this.raiseFault({ kind: closed ? 'contactor-stuck-open' : 'contactor-welded', severity: closed ? 'low' : 'high', detail: String(err) });
    });
    this.scheduleFeedbackCheck();
  }

  /**
   * The command never reached the board (port gone, no answer): a communication fault, not a welded or
   * stuck contactor. High, so the contactor stays commanded open and no session starts here; the board
   * itself must open its relay when the host falls silent (docs/board-profiles.md). The open command
   * is sent again until it is delivered, which clears the fault: no restart needed.
   */
  private commFailed(closed: boolean, err: unknown): void {
    this.raiseFault({
      kind: 'comm-failure',
      severity: 'high',
      detail: `contactor ${closed ? 'close' : 'open'} not delivered: ${String(err)}`,
      vendorCode: 'ContactorCommandUndelivered',
    });
    this.armCommRetry();
  }

  private armCommRetry(): void {
    if (this.stopped || this.commRetryTimer) return;
    this.commRetryTimer = this.clock.setTimeout(() => {
      this.commRetryTimer = undefined;
      this.retryOpen();
    }, COMM_RETRY_MS);
  }

  private retryOpen(): void {
    if (!this.faults.has('comm-failure')) return;
    this.hal.contactor.set(false).then(
      () => {
        this.clock.clear(this.commRetryTimer);
        this.commRetryTimer = undefined;
        this.log.info('contactor command delivered again', { evse: this.id });
        this.clearFault('comm-failure');
      },
      (err: unknown) => {
        if (isUndelivered(err)) this.armCommRetry();
        else this.raiseFault({ kind: 'contactor-welded', severity: 'high', detail: String(err) });
      },
    );
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
    if (this.holder) return true;
    if (!this.authorized) return false;
    return this.isPlugged || (this.sessionSawEv && this.keepLockedOnEvUnplug());
  }

  private applyLock(): void {
    const lock = this.hal.lock;
    if (!lock) return;
    const want = this.lockWanted();
    if (want && !lock.locked && !this.locking && !this.faults.has('lock-failure')) {
      this.locking = true;
      lock
        .lock()
        .then((ok) => {
          this.locking = false;
          if (!ok && !this.faults.has('lock-failure')) this.raiseFault({ kind: 'lock-failure', severity: 'low', detail: 'lock did not confirm' });
          else this.update();
        })
        .catch((err: unknown) => {
          this.locking = false;
          this.raiseFault({ kind: 'lock-failure', severity: 'low', detail: String(err) });
        });
    } else if (!want && lock.locked && !this.unlocking && !this.hal.contactor.commanded) {
      void this.unlockNow();
    }
  }

  /** Unlock the connector (also the UnlockConnector command). Never while the contactor is closed. */
  async unlockNow(): Promise<boolean> {
    const lock = this.hal.lock;
    if (!lock) return false;
    if (this.hal.contactor.commanded) return false;
    this.unlocking = true;
    try {
      const ok = await lock.unlock();
      // An unlock clears a lock fault: the next lock attempt may succeed.
      if (ok) this.clearFault('lock-failure');
      return ok;
    } catch (err) {
      this.log.error('unlock failed', { evse: this.id, err: String(err) });
      return false;
    } finally {
      this.unlocking = false;
    }
  }

  private scheduleFeedbackCheck(): void {
    if (this.hal.contactor.feedback === undefined || this.stopped) return;
    this.clock.clear(this.feedbackTimer);
    this.feedbackTimer = this.clock.setTimeout(() => {
      this.feedbackTimer = undefined;
      this.checkFeedback();
    }, FEEDBACK_SETTLE_MS);
  }

  private checkFeedback(): void {
    const { commanded, feedback } = this.hal.contactor;
    if (feedback === undefined) return;
    if (feedback && !commanded) {
      this.raiseFault({ kind: 'contactor-welded', severity: 'high', detail: WELDED });
    } else if (!feedback && commanded) {
      this.raiseFault({ kind: 'contactor-stuck-open', severity: 'low', detail: STUCK_OPEN });
    } else if (!feedback && !commanded) {
      // Only clear what our own check raised; a driver that raised it clears it itself.
      // A stuck-open contactor is not retried within the session (that would chatter); see endSession.
      if (this.faults.get('contactor-welded')?.detail === WELDED) this.clearFault('contactor-welded');
    }
  }

  private pilotFault(): boolean {
    return this.pilotState === 'E' || this.pilotState === 'F';
  }

  private computeStatus(): ConnectorState {
    const base = { evseId: this.id, connectorId: 1, at: this.clock.now() };
    const high = this.highFault;
    if (high) return { ...base, status: 'Faulted', ...faultFields(high) };
    if (this.pilotFault()) {
      return { ...base, status: 'Faulted', errorCode: 'EVCommunicationError', info: `pilot state ${this.pilotState}` };
    }
    const low = [...this.faults.values()][0];
    const errorFields: { errorCode: ErrorCode; info?: string; vendorErrorCode?: string } = low ? faultFields(low) : { errorCode: 'NoError' };
    let status: ConnectorStatus;
    if (!this.operative) status = 'Unavailable';
    else if (this.sessionActive) status = this.sessionStatus();
    else if (this.finishing) status = 'Finishing';
    else if (this.reserved) status = 'Reserved';
    else status = 'Available';
    return { ...base, status, ...errorFields };
  }

  private sessionStatus(): ConnectorStatus {
    if (!this.isPlugged) return this.sessionSawEv && this.authorized ? 'SuspendedEV' : 'Preparing';
    if (this.deauthorized) return 'SuspendedEVSE';
    if (!this.authorized) return 'Preparing';
    // A smart-charging limit below the minimum PWM: the EVSE withholds energy, whatever the EV does
    // once its PWM is gone (an IEC 61851 EV answers a missing PWM by leaving state C).
    if (this.limitA !== undefined && this.limitA < MIN_PWM_AMPS) return 'SuspendedEVSE';
    const evWants = this.pilotState === 'C' || this.pilotState === 'D';
    if (evWants && this.hal.contactor.commanded) return this.drawing ? 'Charging' : 'SuspendedEV';
    if (evWants) return 'SuspendedEVSE';
    return 'SuspendedEV';
  }

  private emitStatus(): void {
    if (!this.live) return;
    const next = this.computeStatus();
    const prev = this.lastStatus;
    if (
      prev &&
      prev.status === next.status &&
      prev.errorCode === next.errorCode &&
      prev.info === next.info &&
      prev.vendorErrorCode === next.vendorErrorCode
    ) {
      return;
    }
    this.lastStatus = next;
    this.emit('status', next);
  }
}

function isPluggedState(s: PilotState): boolean | undefined {
  if (s === 'A') return false;
  if (s === 'B' || s === 'C' || s === 'D') return true;
  return undefined; // E/F say nothing about the cable
}

function faultFields(f: HalFault): { errorCode: ErrorCode; info?: string; vendorErrorCode?: string } {
  return {
    errorCode: errorCodeFor(f.kind),
    info: f.detail ? `${f.kind}: ${f.detail}`.slice(0, 50) : f.kind,
    ...(f.vendorCode !== undefined ? { vendorErrorCode: f.vendorCode } : f.kind === 'emergency-stop' ? { vendorErrorCode: 'EmergencyStop' } : {}),
  };
}
