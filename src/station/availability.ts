/**
 * Availability and reset of the station: the wanted availability of each EVSE and of the station
 * (persisted, applied to an EVSE once no session runs on it), and resets (an EVSE's ends its session;
 * the station's ends every session, records why, then asks its owner to restart; OnIdle waits for the
 * last session to end). Reset OnIdle waits for the station's sessions only: a protocol transaction that
 * outlives its session is the adapter's to wait for.
 */
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { kvDelete, kvGet, kvSet } from '../store/kv.js';
import type { AvailabilityResult, ResetKind, StopReason } from './api.js';
import type { Evse } from './evse.js';
import type { Sessions } from './session.js';

/** Wanted availability, persisted; applied to an EVSE once no session runs on it. */
interface Wanted {
  station: boolean;
  evses: Record<string, boolean>;
}

const KV_AVAILABILITY = 'availability';
const KV_PENDING_RESET = 'pending-reset';

export const RESET_STOP: Record<ResetKind, StopReason> = {
  Soft: 'SoftReset',
  Hard: 'HardReset',
  Immediate: 'ImmediateReset',
  OnIdle: 'SoftReset',
};
const RESET_RESTART: Record<ResetKind, 'HardReset' | 'SoftReset' | 'Immediate'> = {
  Soft: 'SoftReset',
  Hard: 'HardReset',
  Immediate: 'Immediate',
  OnIdle: 'SoftReset',
};

export interface AvailabilityDeps {
  db: Db;
  log: Logger;
  evses: Map<number, Evse>;
  sess: Sessions;
  /** The EVSE may take a cable that waits (it became available). */
  openForCable: (evse: Evse) => void;
  restart: (kind: 'HardReset' | 'SoftReset' | 'Immediate') => void;
}

export class AvailabilityAndReset {
  private wanted: Wanted = { station: true, evses: {} };
  private resetOnIdle: ResetKind | undefined;
  private resetting = false;

  constructor(private readonly d: AvailabilityDeps) {}

  /** At start: the wanted availability applied, and the reset recorded before this start (taken once). */
  load(): ResetKind | undefined {
    const recorded = kvGet<ResetKind>(this.d.db, KV_PENDING_RESET);
    kvDelete(this.d.db, KV_PENDING_RESET);
    this.wanted = kvGet<Wanted>(this.d.db, KV_AVAILABILITY) ?? { station: true, evses: {} };
    for (const evse of this.d.evses.values()) this.apply(evse);
    return recorded;
  }

  set(evseId: number, operative: boolean): AvailabilityResult {
    if (evseId !== 0 && !this.d.evses.has(evseId)) return 'Rejected';
    if (evseId === 0) this.wanted.station = operative;
    else this.wanted.evses[String(evseId)] = operative;
    kvSet(this.d.db, KV_AVAILABILITY, this.wanted);
    let scheduled = false;
    for (const evse of this.d.evses.values()) {
      if (evseId !== 0 && evse.id !== evseId) continue;
      if (!this.apply(evse)) scheduled = true;
    }
    return scheduled ? 'Scheduled' : 'Accepted';
  }

  /** Apply the wanted availability unless a running session must end first. True when applied. */
  apply(evse: Evse): boolean {
    const evseWanted = this.wanted.evses[String(evse.id)] ?? true;
    const stationWanted = this.wanted.station;
    const goingDown = (!evseWanted && evse.evseOperativeSetting) || (!stationWanted && evse.operative);
    if (goingDown && this.d.sess.get(evse.id)) return false;
    evse.setOperative(evseWanted);
    evse.setStationOperative(stationWanted);
    this.d.openForCable(evse);
    return true;
  }

  reset(kind: ResetKind, evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled' {
    if (this.resetting) return 'Rejected';
    if (evseId !== undefined && evseId !== 0) {
      if (!this.d.evses.has(evseId)) return 'Rejected';
      // An EVSE has no process of its own to restart: resetting it ends its session.
      if (kind === 'OnIdle' && this.d.sess.get(evseId)) return 'Scheduled';
      void this.d.sess.end(evseId, RESET_STOP[kind], 'ResetCommand');
      return 'Accepted';
    }
    if (kind === 'OnIdle' && !this.idle()) {
      this.resetOnIdle = kind;
      return 'Scheduled';
    }
    void this.performReset(kind);
    return 'Accepted';
  }

  /** A session ended: its EVSE takes the wanted availability (unless the station stops), a waiting OnIdle reset may go. */
  sessionEnded(evse: Evse | undefined, stopping: boolean): void {
    if (evse && !stopping) this.apply(evse);
    if (this.resetOnIdle && this.idle() && !this.resetting) void this.performReset(this.resetOnIdle);
  }

  private idle(): boolean {
    return this.d.sess.all().length === 0;
  }

  private async performReset(kind: ResetKind): Promise<void> {
    this.resetting = true;
    this.resetOnIdle = undefined;
    // Recorded first: if the process dies while ending sessions, the next start still knows why.
    kvSet(this.d.db, KV_PENDING_RESET, kind);
    for (const s of this.d.sess.all()) void this.d.sess.end(s.evseId, RESET_STOP[kind], 'ResetCommand');
    await this.d.sess.settled();
    this.d.log.info('reset requested', { kind });
    this.d.restart(RESET_RESTART[kind]);
  }
}
