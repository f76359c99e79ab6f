/**
 * The connector lock of one EVSE as the pilot/contactor layer drives it: lock while wanted, unlock
 * when no longer wanted, and never unlock while the contactor is closed. A lock that does not confirm
 * is a low-severity fault; an unlock that works clears it, so the next attempt may succeed.
 */
import type { Logger } from '../../base/logger.js';
import type { ConnectorLock, HalFault, HalFaultKind } from '../../hal/types.js';

export interface LockDeps {
  evseId: number;
  lock: ConnectorLock | undefined;
  log: Logger;
  contactorClosed: () => boolean;
  hasFault: (kind: HalFaultKind) => boolean;
  raise: (f: HalFault) => void;
  clear: (kind: HalFaultKind) => void;
  /** The lock confirmed: the EVSE looks at its state again (the contactor may close now). */
  confirmed: () => void;
}

export class LockControl {
  private locking = false;
  private unlocking = false;

  constructor(private readonly d: LockDeps) {}

  /** Lock or unlock as wanted; runs in every update of the EVSE. */
  apply(want: boolean): void {
    const lock = this.d.lock;
    if (!lock) return;
    if (want && !lock.locked && !this.locking && !this.d.hasFault('lock-failure')) {
      this.locking = true;
      lock
        .lock()
        .then((ok) => {
          this.locking = false;
          if (!ok && !this.d.hasFault('lock-failure')) this.d.raise({ kind: 'lock-failure', severity: 'low', detail: 'lock did not confirm' });
          else this.d.confirmed();
        })
        .catch((err: unknown) => {
          this.locking = false;
          this.d.raise({ kind: 'lock-failure', severity: 'low', detail: String(err) });
        });
    } else if (!want && lock.locked && !this.unlocking && !this.d.contactorClosed()) {
      void this.unlock();
    }
  }

  /** Unlock the connector (also the UnlockConnector command). Never while the contactor is closed. */
  async unlock(): Promise<boolean> {
    const lock = this.d.lock;
    if (!lock) return false;
    if (this.d.contactorClosed()) return false;
    this.unlocking = true;
    try {
      const ok = await lock.unlock();
      // An unlock clears a lock fault: the next lock attempt may succeed.
      if (ok) this.d.clear('lock-failure');
      return ok;
    } catch (err) {
      this.d.log.error('unlock failed', { evse: this.d.evseId, err: String(err) });
      return false;
    } finally {
      this.unlocking = false;
    }
  }
}
