/**
 * The simulated board as a whole: one EVSE model per EVSE of the profile, the card reader and the
 * display, and the controls (SimControl) that the control socket, scenarios and tests drive.
 */
import type { Clock } from '../../base/clock.js';
import type { HalDeps, SimControl, SimFaultKind, SimStatus } from '../types.js';
import type { BoardProfile } from '../profile.js';
import { SimEvse, evParams, type SimWorldLink } from './evse.js';
import { SimDisplay, SimReader, SimSiteMeter } from './parts.js';
import { SIM_FAULT_KINDS, isSimFaultKind } from './faults.js';

export class SimWorld implements SimControl, SimWorldLink {
  readonly clock: Clock;
  readonly evses = new Map<number, SimEvse>();
  readonly reader = new SimReader();
  readonly display: SimDisplay;
  /** The building's other load behind the grid connection, read by a site meter with driver "sim". */
  readonly siteMeter: SimSiteMeter;
  /** Set when the board's reader is the simulated one, so that tap() has somewhere to go. */
  readerInUse = false;
  private readerFaulted = false;
  private readonly queue: (() => void)[] = [];
  private draining = false;

  constructor(board: BoardProfile, deps: HalDeps) {
    this.clock = deps.clock;
    this.display = new SimDisplay(deps.log, deps.clock);
    this.siteMeter = new SimSiteMeter(() => deps.clock.now());
    this.reader.useLog(deps.log);
    this.display.useLog(deps.log);
    this.siteMeter.useLog(deps.log);
    for (const e of board.evses) {
      const evse = new SimEvse(e.id, e.phases, evParams(e), this);
      for (const part of [evse.pilot, evse.contactor, evse.lock, evse.meter]) part.useLog(deps.log.child(`evse${e.id}`));
      this.evses.set(e.id, evse);
    }
  }

  /**
   * Emits in order even when a listener changes the world from inside an event: nested changes
   * queue behind the event being delivered. A throwing listener cannot stop the others or the model:
   * each part's emit (base/emitter.ts) isolates and logs it.
   */
  post(fn: () => void): void {
    this.queue.push(fn);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) next();
    } finally {
      this.draining = false;
    }
  }

  evse(id: number): SimEvse {
    const e = Number.isInteger(id) ? this.evses.get(id) : undefined;
    if (!e) throw new Error(`unknown EVSE ${String(id)} (this board has ${[...this.evses.keys()].join(', ')})`);
    return e;
  }

  plug(evseId: number): void {
    this.evse(evseId).plug();
  }

  unplug(evseId: number): void {
    this.evse(evseId).unplug();
  }

  evReady(evseId: number): void {
    this.evse(evseId).setWantsEnergy(true);
  }

  evPause(evseId: number): void {
    this.evse(evseId).setWantsEnergy(false);
  }

  tap(idToken: string): void {
    const id = typeof idToken === 'string' ? idToken.trim().toUpperCase() : '';
    if (id === '') throw new Error('tap needs an id token');
    if (!this.readerInUse) throw new Error('this board has no simulated card reader');
    if (this.readerFaulted) throw new Error('the card reader is faulted (fault reader): the tap was not read');
    this.post(() => this.reader.fire('token', { id, kind: 'ISO14443' }));
  }

  fault(evseId: number, kind: SimFaultKind): void {
    const evse = this.evse(evseId);
    checkKind(kind);
    if (kind === 'reader') {
      if (this.readerFaulted) return;
      this.readerFaulted = true;
      this.post(() => this.reader.fire('fault', { kind: 'reader-failure', severity: 'low', detail: 'simulated reader fault' }));
      return;
    }
    evse.injectFault(kind);
  }

  clearFault(evseId: number, kind?: SimFaultKind): void {
    const evse = this.evse(evseId);
    if (kind !== undefined) checkKind(kind);
    for (const k of kind === undefined ? SIM_FAULT_KINDS : [kind]) {
      if (k !== 'reader') evse.clearFault(k);
      else if (this.readerFaulted) {
        this.readerFaulted = false;
        this.post(() => this.reader.fire('fault-cleared', 'reader-failure'));
      }
    }
  }

  setBuildingLoad(ampsPerPhase: number): void {
    if (typeof ampsPerPhase !== 'number' || !Number.isFinite(ampsPerPhase) || ampsPerPhase < 0 || ampsPerPhase > 10_000) {
      throw new Error(`building load must be a number of amperes per phase in [0, 10000], got ${JSON.stringify(ampsPerPhase)}`);
    }
    this.siteMeter.setLoad(ampsPerPhase);
  }

  siteMeterSilent(silent: boolean): void {
    this.siteMeter.setSilent(silent);
  }

  status(): SimStatus {
    return {
      display: this.display.screen.slice(),
      building: { loadA: this.siteMeter.load, meterSilent: this.siteMeter.silent },
      evses: [...this.evses.values()].map((e) => {
        const s = e.status();
        // The reader serves every EVSE, so its fault shows on each.
        if (this.readerFaulted) s.faults.push('reader');
        return s;
      }),
    };
  }

  close(): void {
    this.display.close();
    for (const e of this.evses.values()) e.close();
  }
}

function checkKind(kind: unknown): asserts kind is SimFaultKind {
  if (!isSimFaultKind(kind)) {
    throw new Error(`unknown fault kind "${String(kind)}" (known: ${SIM_FAULT_KINDS.join(', ')})`);
  }
}
