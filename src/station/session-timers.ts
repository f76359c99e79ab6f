/**
 * The timers of running sessions: the activity checkpoint (what a power cut keeps of a session) and
 * ConnectionTimeOut (an authorization without a cable, or a cable without an authorization, waits only
 * so long). Every timer goes through the station clock.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { commitLazy, type Db } from '../store/db.js';
import { saveSession } from '../store/sessions.js';
import type { AuthSettings, Session } from './api.js';
import type { Evse } from './evse.js';

/**
 * A running session's activity time is checkpointed this often (station clock), and its energy with
 * every meter sample. Those writes skip the fsync (commitLazy): they survive a crash of the process at
 * once, and a power cut from the next FULL commit on (any FULL commit, e.g. the outbox's, makes the
 * earlier WAL frames durable too); every CHECKPOINT_FULL_EVERY-th checkpoint is FULL itself, so a power
 * cut loses at most that many intervals of activity time even on a quiet station.
 */
export const CHECKPOINT_MS = 30_000;
const CHECKPOINT_FULL_EVERY = 10;

export interface SessionTimersDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  settings: AuthSettings;
  evses: Map<number, Evse>;
  /** The running session on an EVSE. */
  running: (evseId: number) => Session | undefined;
  /** ConnectionTimeOut ran out: end the EVSE's session. */
  end: (evseId: number) => void;
}

export class SessionTimers {
  private readonly timeouts = new Map<number, TimerHandle>();
  private readonly checkpoints = new Map<number, TimerHandle>();
  private checkpointCount = 0;

  constructor(private readonly d: SessionTimersDeps) {}

  checkpoint(s: Session, energyWh?: number): void {
    s.lastActiveAt = this.d.clock.now();
    if (energyWh !== undefined && Number.isFinite(energyWh)) s.lastEnergyWh = energyWh;
    try {
      if (++this.checkpointCount % CHECKPOINT_FULL_EVERY === 0) saveSession(this.d.db, s);
      else commitLazy(this.d.db, () => saveSession(this.d.db, s));
    } catch (err) {
      // Only the precision of a later power-loss stop is at stake; the session goes on.
      this.d.log.warn('session checkpoint not written', { session: s.id, err: String(err) });
    }
  }

  armCheckpoint(evseId: number): void {
    this.disarmCheckpoint(evseId);
    this.checkpoints.set(
      evseId,
      this.d.clock.setInterval(() => {
        const s = this.d.running(evseId);
        if (s) this.checkpoint(s);
      }, CHECKPOINT_MS),
    );
  }

  disarmCheckpoint(evseId: number): void {
    this.d.clock.clear(this.checkpoints.get(evseId));
    this.checkpoints.delete(evseId);
  }

  /** Authorized without a cable, or a cable without authorization: wait connectionTimeOutS. */
  armTimeout(evseId: number): void {
    this.disarmTimeout(evseId);
    const s = this.d.running(evseId);
    const evse = this.d.evses.get(evseId);
    if (!s || !evse) return;
    const waiting = (s.authorizedAt !== undefined) !== evse.plugged;
    const limitS = this.d.settings.connectionTimeOutS;
    // Only before the transaction is complete the first time: a running one is not timed out.
    if (!waiting || limitS <= 0 || (s.authorizedAt !== undefined && s.evConnectedAt !== undefined)) return;
    this.timeouts.set(
      evseId,
      this.d.clock.setTimeout(() => {
        this.timeouts.delete(evseId);
        const now = this.d.running(evseId);
        if (now === s) this.d.end(evseId);
      }, limitS * 1000),
    );
  }

  disarmTimeout(evseId: number): void {
    this.d.clock.clear(this.timeouts.get(evseId));
    this.timeouts.delete(evseId);
  }

  stop(): void {
    for (const id of [...this.timeouts.keys()]) this.disarmTimeout(id);
    for (const id of [...this.checkpoints.keys()]) this.disarmCheckpoint(id);
  }
}
