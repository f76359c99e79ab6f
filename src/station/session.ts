/**
 * Session lifecycle on each EVSE: opened by the first of (EV connected, authorized), ended when its
 * transaction stops (token, remote, EV side disconnect, timeout, reset, fault, shutdown). Every change
 * is written to SQLite (synchronous=FULL) before it is reported, so a power cut loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { commitLazy, type Db } from '../store/db.js';
import { isStorageError, storageHealth } from '../store/health.js';
import { markEndReported, saveSession, unreportedEnds } from '../store/sessions.js';
import type { AuthInfo, AuthSettings, ChargingState, IdToken, MeterSample, Session, SessionEvent, SessionEventType, SessionTrigger, StopReason } from './api.js';
import type { Evse } from './evse.js';
import type { LockHolder, SessionFacts } from './evse-status.js';
import type { Metering } from './metering.js';
import { SessionTimers } from './session-timers.js';
import { Closings } from './session-closing.js';

export { CHECKPOINT_MS } from './session-timers.js';

export interface SessionDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  settings: AuthSettings;
  evses: Map<number, Evse>;
  /** Per EVSE, the session facts its pilot/contactor layer reads; written here only. */
  facts: Map<number, SessionFacts>;
  metering: Metering;
  /** Called after a session ended and was reported (scheduled availability, OnIdle reset, ...). */
  afterEnd: (s: Session) => void;
}

export interface SessionsEvents {
  /** Every fact and milestone of every session (StationEvents 'session'). */
  event: [SessionEvent];
}

export interface AuthorizeFacts {
  idToken: IdToken;
  auth: AuthInfo;
  trigger: 'Authorized' | 'RemoteStart';
  offline?: boolean;
  remoteStartId?: number;
  reservationId?: number;
}

export class Sessions extends TypedEmitter<SessionsEvents> {
  private readonly running = new Map<number, Session>();
  /** Checkpoints of running sessions and their ConnectionTimeOut. */
  private readonly timers: SessionTimers;
  private readonly ending = new Set<Promise<void>>();
  private readonly closedWatchers = new Set<(e: SessionEvent) => void>();
  /** Ended sessions waiting for their 'closed' milestone. */
  private readonly closings: Closings;
  /**
   * While the storage takes no writes: the sessions whose latest state is not on disk (written first
   * when writes work again), and the ends not reported yet with their trigger (reported then: the
   * adapters queue their transaction messages only into a database that takes them).
   */
  private readonly unsaved = new Map<string, Session>();
  private readonly unreported = new Map<string, SessionTrigger>();
  /** Ends between their first save and their report (finishEnd): reported by finishEnd itself. */
  private readonly finishing = new Set<string>();

  constructor(private readonly d: SessionDeps) {
    super(d.log);
    this.timers = new SessionTimers({
      ...d,
      running: (evseId) => this.running.get(evseId),
      end: (evseId) => void this.end(evseId, 'Timeout', 'EVConnectTimeout'),
    });
    this.closings = new Closings((e) => this.emit('event', e));
  }

  // ---- the facts the EVSEs read ---------------------------------------------------------------

  private facts(evseId: number): SessionFacts {
    const f = this.d.facts.get(evseId);
    if (!f) throw new Error(`no session facts for EVSE ${evseId}`);
    return f;
  }

  /** Change the facts of an EVSE's session, then let its pilot/contactor layer act on them. */
  private setFacts(evse: Evse, change: Partial<SessionFacts>): void {
    Object.assign(this.facts(evse.id), change);
    evse.update();
  }

  /** May the cable on this EVSE open a session, or did one end with it in? */
  cableHandled(evseId: number): boolean {
    return this.d.facts.get(evseId)?.cableHandled ?? false;
  }

  lockHolder(evseId: number): LockHolder | undefined {
    return this.d.facts.get(evseId)?.lockHolder;
  }

  /** E09.FR.03: the cable kept locked for its owner is released (owner presented, or UnlockConnector). */
  releaseLock(evse: Evse): void {
    if (this.facts(evse.id).lockHolder) this.setFacts(evse, { lockHolder: undefined });
  }

  /**
   * The pilot says plugged (B/C/D), unplugged (A) or nothing about the cable (E/F). An unplug ends what
   * the last session left (Finishing, the handled cable); a plug is seen by the open session. Part of the
   * EVSE's own snapshot (the station reports after it): none of these facts moves the contactor, PWM or lock.
   */
  pilotChanged(evseId: number, plugged: boolean | undefined): void {
    const f = this.facts(evseId);
    if (plugged === false) Object.assign(f, { finishing: false, cableHandled: false });
    else if (plugged === true && f.active) f.sawEv = true;
  }

  private get storageFaulted(): boolean {
    return storageHealth(this.d.db).fault !== undefined;
  }

  /**
   * Write the session; a storage failure keeps it in memory for storageRecovered() instead of throwing
   * into the EVSE event that caused the change (the contactor decision has been made already).
   */
  private save(s: Session, durability: 'full' | 'lazy' = 'full'): void {
    if (this.storageFaulted) {
      this.unsaved.set(s.id, s);
      return;
    }
    try {
      if (durability === 'lazy') commitLazy(this.d.db, () => saveSession(this.d.db, s));
      else saveSession(this.d.db, s);
      this.unsaved.delete(s.id);
    } catch (err) {
      if (!storageHealth(this.d.db).failed(err)) throw err;
      this.d.log.error('session not written: storage fault', { session: s.id, err: String(err) });
      this.unsaved.set(s.id, s);
    }
  }

  /**
   * Writes work again: the sessions kept in memory are written first, then the ends that were held
   * back (and any whose report a failed write interrupted: the adapters take an 'ended' twice, as after
   * a power cut) are reported. False when a write failed again (the fault goes on).
   */
  storageRecovered(): boolean {
    try {
      this.d.db.transaction(() => {
        for (const s of this.unsaved.values()) saveSession(this.d.db, s);
      })();
    } catch (err) {
      if (!storageHealth(this.d.db).failed(err)) throw err;
      return false;
    }
    this.unsaved.clear();
    for (const s of unreportedEnds<Session>(this.d.db)) {
      if (this.finishing.has(s.id)) continue;
      const trigger = this.unreported.get(s.id) ?? 'AbnormalCondition';
      this.unreported.delete(s.id);
      this.report(s, trigger);
    }
    return !this.storageFaulted;
  }

  get(evseId: number): Session | undefined {
    return this.running.get(evseId);
  }

  all(): Session[] {
    return [...this.running.values()];
  }

  find(id: string): Session | undefined {
    for (const s of this.running.values()) if (s.id === id) return s;
    return undefined;
  }

  /** Session running with this token, or with a token of this group. */
  findByToken(idToken: string): Session | undefined {
    for (const s of this.running.values()) if (s.idToken?.idToken === idToken) return s;
    return undefined;
  }

  // ---- facts from the EVSE --------------------------------------------------------------------

  evConnected(evse: Evse): void {
    const now = this.d.clock.now();
    const s = this.running.get(evse.id);
    if (!s) {
      this.open(evse, { evConnectedAt: now }, 'CablePluggedIn');
    } else if (s.evConnectedAt === undefined) {
      s.evConnectedAt = now;
      s.chargingState = evse.chargingState();
      this.changed(s, 'ev-connected', 'CablePluggedIn');
    } else {
      // Back after an EV-side unplug that did not stop the transaction. Lazy: the record does not
      // change (only the event matters), so a power cut loses nothing recovery reads.
      this.changed(s, 'ev-connected', 'CablePluggedIn', 'lazy');
    }
    this.timers.armTimeout(evse.id);
  }

  evDisconnected(evse: Evse): void {
    const s = this.running.get(evse.id);
    if (!s) {
      this.closings.closeBy(evse.id, 'EVDeparted', this.d.clock.now());
      return;
    }
    if (s.authorizedAt === undefined || this.d.settings.stopTxOnEVSideDisconnect) {
      if (s.authorizedAt !== undefined && s.idToken && !this.d.settings.unlockConnectorOnEVSideDisconnect) {
        const holder = { idToken: s.idToken.idToken, ...(s.auth?.groupId !== undefined ? { groupId: s.auth.groupId } : {}) };
        this.setFacts(evse, { lockHolder: evse.hal.lock ? holder : undefined });
      }
      void this.end(evse.id, 'EVDisconnected', 'EVDeparted');
      return;
    }
    // Lazy: the record does not change (the transaction goes on), only the event matters.
    this.changed(s, 'ev-disconnected', 'EVDeparted', 'lazy');
  }

  powerPath(evseId: number, closed: boolean): void {
    const s = this.running.get(evseId);
    if (!s || s.powerPathClosed === closed) return;
    s.powerPathClosed = closed;
    // Lazy: after a power cut the contactor is open whatever was stored, and recovery writes
    // powerPathClosed false itself; this runs in the tick of the pilot event (C → B) too.
    this.changed(s, closed ? 'power-path-closed' : 'power-path-opened', 'ChargingStateChanged', 'lazy');
  }

  chargingState(evseId: number, cs: ChargingState): void {
    const s = this.running.get(evseId);
    if (!s || s.chargingState === cs) return;
    s.chargingState = cs;
    // Lazy: recovery ends the session with PowerLoss from its id, token, meterStart and the meter;
    // a charging state a few ms stale before the cut changes none of that.
    this.changed(s, 'charging-state', 'ChargingStateChanged', 'lazy');
  }

  // ---- facts from authorization ---------------------------------------------------------------

  /** Authorize the EVSE's session (opening one if none runs). The record is durable before the contactor may close. */
  authorize(evse: Evse, f: AuthorizeFacts): Session {
    const now = this.d.clock.now();
    const facts: Partial<Session> = {
      authorizedAt: now,
      idToken: f.idToken,
      auth: f.auth,
      ...(f.offline ? { offline: true } : {}),
      ...(f.remoteStartId !== undefined ? { remoteStartId: f.remoteStartId } : {}),
      ...(f.reservationId !== undefined ? { reservationId: f.reservationId } : {}),
    };
    let s = this.running.get(evse.id);
    if (!s) {
      s = this.open(evse, { ...facts, ...(evse.plugged ? { evConnectedAt: now } : {}) }, f.trigger);
    } else {
      Object.assign(s, facts);
      this.changed(s, 'authorized', f.trigger);
    }
    this.setFacts(evse, { authorized: true, deauthorized: false });
    this.timers.armTimeout(evse.id);
    return s;
  }

  /** The CSMS says the token is not valid: stop the energy, and the transaction when so configured. */
  deauthorize(sessionId: string, auth: AuthInfo): void {
    const s = this.find(sessionId);
    if (!s) return;
    const evse = this.d.evses.get(s.evseId);
    if (evse) this.setFacts(evse, { authorized: false, deauthorized: true });
    s.auth = auth;
    this.changed(s, 'deauthorized', 'Deauthorized');
    if (this.d.settings.stopTransactionOnInvalidId) void this.end(s.evseId, 'DeAuthorized', 'Deauthorized');
  }

  // ---- open / end -----------------------------------------------------------------------------

  private open(evse: Evse, facts: Partial<Session>, trigger: SessionTrigger): Session {
    const now = this.d.clock.now();
    const meterStart = this.d.metering.lastReading(evse.id)?.energyImportWh;
    const s: Session = {
      id: randomUUID(),
      evseId: evse.id,
      connectorId: 1,
      startedAt: now,
      powerPathClosed: false,
      chargingState: evse.chargingState(),
      ...(meterStart !== undefined ? { meterStartWh: meterStart } : {}),
      ...facts,
    };
    // Registered after the EVSE took the session, so that no event of it precedes 'started'.
    this.setFacts(evse, { active: true, deauthorized: false, sawEv: evse.plugged, finishing: false });
    this.running.set(evse.id, s);
    s.chargingState = evse.chargingState();
    // The last session's cable is taken by this one: that session is closed just before this one starts
    // (the EVSE is busy with this one already, e.g. for a Reset OnIdle waiting on the closed one).
    this.closings.closeBy(evse.id, trigger, now);
    this.changed(s, 'started', trigger);
    this.d.metering.startPeriodic(evse.id);
    this.timers.armCheckpoint(evse.id);
    let everClosed = false;
    const watch = (e: SessionEvent): void => {
      if (e.session.id === s.id && e.type === 'power-path-closed') everClosed = true;
    };
    this.closedWatchers.add(watch);
    void this.d.metering.sample(evse.id, 'Transaction.Begin', s.id).then((sample) => {
      this.closedWatchers.delete(watch);
      // The cached value was provisional; no energy flowed before the power path first closed.
      if (sample && s.endedAt === undefined && (s.meterStartWh === undefined || !everClosed)) {
        s.meterStartWh = sample.reading.energyImportWh;
        this.save(s);
      }
    });
    return s;
  }

  /**
   * End the EVSE's session. The contactor opens before this returns; the record is durable at once;
   * the 'ended' event follows the final meter read.
   */
  end(evseId: number, reason: StopReason, trigger: SessionTrigger, stopIdToken?: IdToken): Promise<void> {
    const s = this.running.get(evseId);
    if (!s) return Promise.resolve();
    const evse = this.d.evses.get(evseId);
    this.running.delete(evseId);
    if (evse) this.endFacts(evse, s);
    this.timers.disarmTimeout(evseId);
    this.timers.disarmCheckpoint(evseId);
    this.d.metering.stopPeriodic(evseId);
    s.endedAt = this.d.clock.now();
    s.stoppedReason = reason;
    s.powerPathClosed = false;
    if (evse) s.chargingState = evse.chargingState();
    if (stopIdToken) s.stopIdToken = stopIdToken;
    const cached = this.d.metering.lastReading(evseId)?.energyImportWh;
    if (cached !== undefined) s.meterStopWh = cached;
    this.save(s);
    this.finishing.add(s.id);
    this.closings.ended(s, evse?.plugged ?? false, s.endedAt ?? this.d.clock.now());
    const done = this.finishEnd(s, trigger);
    this.ending.add(done);
    void done.finally(() => this.ending.delete(done));
    return done;
  }

  private async finishEnd(s: Session, trigger: SessionTrigger): Promise<void> {
    const sample = await this.d.metering.sample(s.evseId, 'Transaction.End', s.id);
    if (sample) s.meterStopWh = sample.reading.energyImportWh;
    this.save(s);
    this.finishing.delete(s.id);
    this.report(s, trigger);
    this.d.afterEnd(s);
  }

  /** The facts of an EVSE whose session ended: no authorization, Finishing while an authorized session's cable stays in. */
  private endFacts(evse: Evse, s: Session): void {
    const plugged = evse.plugged;
    this.setFacts(evse, {
      authorized: false,
      deauthorized: false,
      active: false,
      sawEv: false,
      finishing: s.authorizedAt !== undefined && plugged,
      cableHandled: plugged,
    });
  }


  /**
   * End a session the last run left open (power cut, crash, reset) and report it: it ended when the
   * station last showed it alive, not at this restart, and its energy register never goes below what
   * was last seen or the start (a meter whose register restarted at 0 with the power is not believed).
   */
  endRecovered(s: Session, reason: StopReason, trigger: SessionTrigger, reading: number | undefined): void {
    // Not clamped to now: a clock that restarted behind the last checkpoint (no RTC yet) is the one wrong.
    const known = [s.lastActiveAt, s.authorizedAt, s.evConnectedAt, s.startedAt].filter((t): t is number => t !== undefined);
    s.endedAt = Math.max(...known);
    s.stoppedReason = reason;
    s.powerPathClosed = false;
    const energy = [reading, s.lastEnergyWh, s.meterStartWh].filter((w): w is number => w !== undefined && Number.isFinite(w));
    if (energy.length > 0) s.meterStopWh = Math.max(...energy);
    saveSession(this.d.db, s);
    const evse = this.d.evses.get(s.evseId);
    if (evse) this.endFacts(evse, s);
    this.closings.ended(s, evse?.plugged ?? false, s.endedAt ?? this.d.clock.now());
    this.report(s, trigger);
  }

  /**
   * Report an ended session (also one recovered at start) and note that it was reported. While the
   * storage takes no writes the report waits for storageRecovered(): the end is on its way to disk
   * (or kept in memory) and the adapters could not queue its transaction messages anyway.
   */
  report(s: Session, trigger: SessionTrigger): void {
    if (this.storageFaulted) {
      this.unreported.set(s.id, trigger);
      this.d.log.warn('session end held back until the storage takes writes again', { session: s.id });
      return;
    }
    // A recovered end is told at the time it happened, not at the time of the restart.
    this.emitEvent('ended', trigger, s, s.endedAt);
    this.closings.reported(s);
    if (this.storageFaulted) {
      // A listener's write failed with this event (its transaction message may not be queued): not
      // marked reported, so storageRecovered() reports it again, even if the next write would work.
      this.unreported.set(s.id, trigger);
      return;
    }
    try {
      markEndReported(this.d.db, s.id);
      this.unreported.delete(s.id);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      // Reported again after recovery (unreportedEnds): the adapters' writes failed with this one.
      storageHealth(this.d.db).failed(err);
      this.unreported.set(s.id, trigger);
    }
  }

  /** A meter sample of a running session: its energy is checkpointed (lazily, see CHECKPOINT_MS). */
  noteSample(sample: MeterSample): void {
    const s = this.running.get(sample.evseId);
    if (!s || sample.sessionId !== s.id) return;
    this.timers.checkpoint(s, sample.reading.energyImportWh);
  }

  stopTimers(): void {
    this.timers.stop();
  }

  /** Wait for every end in progress (shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.ending]);
  }

  // ---- persistence and events -----------------------------------------------------------------

  /**
   * Persist, then tell. 'full' (the default) is on disk before anyone acts on it; 'lazy' skips the
   * fsync (commitLazy) for changes that recovery after a power cut does not need.
   */
  private changed(s: Session, type: SessionEventType, trigger: SessionTrigger, durability: 'full' | 'lazy' = 'full'): void {
    this.save(s, durability);
    this.emitEvent(type, trigger, s);
  }

  private emitEvent(type: SessionEventType, trigger: SessionTrigger, s: Session, at = this.d.clock.now()): void {
    const e: SessionEvent = { type, trigger, at, session: structuredClone(s) };
    for (const w of this.closedWatchers) w(e);
    this.emit('event', e);
  }
}
