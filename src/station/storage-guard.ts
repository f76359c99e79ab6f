/**
 * A durable write failed (disk full, I/O error, read-only): no session may run without its records.
 * Every EVSE takes a high-severity fault (contactor open, Faulted with the reason, no new session),
 * which ends the running sessions; their ends are kept (Sessions) and reported once writes work.
 * A probe write on the station clock finds out when; then the EVSEs are released, no restart needed.
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { probeWrite, type Db } from '../store/db.js';
import { storageHealth, type StorageFault } from '../store/health.js';
import type { Evse } from './evse.js';
import type { Sessions } from './session.js';

/** While the storage takes no writes, a probe write is tried this often (station clock). */
export const STORAGE_PROBE_MS = 10_000;

export interface StorageGuardDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  evses: Map<number, Evse>;
  sess: Sessions;
  /** Started and not stopping: faults are acted on only then. */
  running: () => boolean;
}

export class StorageGuard {
  private probe: TimerHandle | undefined;
  private readonly onFault = (f: StorageFault): void => this.failed(f);
  private readonly onRecovered = (): void => this.recovered();

  constructor(private readonly d: StorageGuardDeps) {}

  /** Watch the storage; a write that failed while the station came up (before anyone listened) counts now. */
  start(): void {
    storageHealth(this.d.db).on('fault', this.onFault);
    storageHealth(this.d.db).on('recovered', this.onRecovered);
    const fault = storageHealth(this.d.db).fault;
    if (fault) this.failed(fault);
  }

  /**
   * Records held back by a storage fault: one last try while the adapters still listen. If the storage
   * still fails, the sessions left open on disk are ended at the next start (PowerLoss).
   */
  lastTry(): void {
    if (storageHealth(this.d.db).fault && probeWrite(this.d.db)) this.d.sess.storageRecovered();
  }

  stop(): void {
    storageHealth(this.d.db).off('fault', this.onFault);
    storageHealth(this.d.db).off('recovered', this.onRecovered);
    this.d.clock.clear(this.probe);
    this.probe = undefined;
  }

  private failed(f: StorageFault): void {
    if (!this.d.running()) return;
    this.d.log.error('storage fault: the database takes no writes; charging stopped until it does', { file: f.file, code: f.code, err: f.message });
    const fault = { kind: 'storage-failure' as const, severity: 'high' as const, detail: f.code, vendorCode: f.code };
    for (const evse of this.d.evses.values()) evse.raiseFault(fault);
    this.d.clock.clear(this.probe);
    this.probe = this.d.clock.setInterval(() => probeWrite(this.d.db), STORAGE_PROBE_MS);
  }

  private recovered(): void {
    if (!this.d.running()) return;
    // Held-back records first: the ends reach the adapters (and their outbox) before the EVSEs are free.
    if (!this.d.sess.storageRecovered()) return;
    this.d.clock.clear(this.probe);
    this.probe = undefined;
    this.d.log.info('storage works again: the held-back session records are written, the EVSEs are released');
    for (const evse of this.d.evses.values()) evse.clearFault('storage-failure');
  }
}
