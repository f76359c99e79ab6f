/**
 * The station-wide hardware inputs: the card reader (tokens and its faults, reported on EVSE 0) and
 * the emergency stop input (a high fault on every EVSE while pressed). Also the faults the drivers
 * raised while they were created, before anyone listened: the EVSEs hold theirs since construction
 * (contactor rule, Faulted status); the adapters hear of them at start.
 */
import type { Logger } from '../../base/logger.js';
import type { Hal, HalFault, TokenRead } from '../../hal/types.js';
import type { AuthInfo, IdToken, StationEvents } from './api.js';
import type { DisplayModel } from './display-model.js';
import type { Evse } from './evse.js';

export interface StationInputsDeps {
  hal: Hal;
  log: Logger;
  evses: Map<number, Evse>;
  display: DisplayModel | undefined;
  presentToken: (token: IdToken) => Promise<AuthInfo>;
  tell: <K extends keyof StationEvents & string>(event: K, ...args: StationEvents[K]) => void;
}

export class StationInputs {
  /** Faults the EVSEs took from their parts at construction, before anyone listened to the EVSEs. */
  private readonly unheard = new Map<number, HalFault[]>();
  private readonly onToken = (t: TokenRead): void => {
    this.d
      .presentToken({ idToken: t.id, type: t.kind })
      .then((info) => {
        if (info.status !== 'Accepted') this.d.display?.flash(['Card not accepted', info.personalMessage ?? info.status]);
      })
      .catch((err: unknown) => this.d.log.error('token handling failed', { err: String(err) }));
  };
  private readonly onReaderFault = (f: HalFault): void => this.d.tell('fault-raised', 0, f);
  private readonly onReaderFaultCleared = (k: HalFault['kind']): void => this.d.tell('fault-cleared', 0, k);
  private readonly onEmergencyStop = (active: boolean): void => this.emergencyStop(active);

  constructor(private readonly d: StationInputsDeps) {
    for (const evse of d.evses.values()) if (evse.activeFaults.length > 0) this.unheard.set(evse.id, evse.activeFaults);
  }

  /** Before the station announces itself: a pressed emergency stop already shows in the first status. */
  applyEmergencyStop(): void {
    if (this.d.hal.emergencyStop?.active) this.emergencyStop(true);
  }

  start(): void {
    const { reader, emergencyStop } = this.d.hal;
    reader?.on('token', this.onToken);
    reader?.on('fault', this.onReaderFault);
    reader?.on('fault-cleared', this.onReaderFaultCleared);
    emergencyStop?.on('change', this.onEmergencyStop);
    for (const [id, faults] of this.unheard) {
      const evse = this.d.evses.get(id);
      for (const f of faults) if (evse?.activeFaults.some((a) => a.kind === f.kind)) this.d.tell('fault-raised', id, f);
    }
    this.unheard.clear();
    // The reader's are taken as if their event came now.
    for (const f of reader?.activeFaults ?? []) this.onReaderFault(f);
  }

  stop(): void {
    const { reader, emergencyStop } = this.d.hal;
    reader?.off('token', this.onToken);
    reader?.off('fault', this.onReaderFault);
    reader?.off('fault-cleared', this.onReaderFaultCleared);
    emergencyStop?.off('change', this.onEmergencyStop);
  }

  private emergencyStop(active: boolean): void {
    for (const evse of this.d.evses.values()) {
      if (active) evse.raiseFault({ kind: 'emergency-stop', severity: 'high', vendorCode: 'EmergencyStop' });
      else evse.clearFault('emergency-stop');
    }
  }
}
