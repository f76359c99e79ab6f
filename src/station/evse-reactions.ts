/**
 * What the station does with one input of an EVSE (its snapshot): the plug fact to the sessions first
 * (they record it before the status and charging state that follow from it), then what changed is told
 * (status to the adapters; charging state and power path to the session), then a fault, which may end
 * the session. A cable that waits while its EVSE cannot take it gets its session once it can.
 */
import type { StationEvents } from './api.js';
import type { Evse, EvseSnapshot } from './evse.js';
import { stopReasonFor } from './faults.js';
import type { Reservations } from './reservations.js';
import type { Sessions } from './session.js';

export interface EvseReactionsDeps {
  sess: Sessions;
  reservations: Reservations;
  tell: <K extends keyof StationEvents & string>(event: K, ...args: StationEvents[K]) => void;
  /** The station has started (a high fault ends a session only then). */
  started: () => boolean;
  /** Started and not stopping: plugs open and end sessions only then. */
  running: () => boolean;
}

export class EvseReactions {
  constructor(private readonly d: EvseReactionsDeps) {}

  wire(evse: Evse): void {
    evse.on('snapshot', (snap) => this.onSnapshot(evse, snap));
  }

  /**
   * One input of an EVSE, after its contactor was dealt with: first the plug fact goes to the sessions
   * (so that they record it before the status and charging state that follow from it), then what changed
   * is told, then the fault, which may end the session.
   */
  private onSnapshot(evse: Evse, snap: EvseSnapshot): void {
    const cause = snap.cause;
    if (cause.kind === 'pilot') {
      this.d.sess.pilotChanged(evse.id, snap.pilot === 'A' ? false : snap.pilot === 'E' || snap.pilot === 'F' ? undefined : true);
      if (cause.plugChanged && this.d.running()) {
        if (snap.plugged) this.onPlugged(evse);
        else this.d.sess.evDisconnected(evse);
      }
    }
    this.report(evse);
    if (cause.kind === 'fault-raised') {
      const f = cause.fault;
      this.d.tell('fault-raised', evse.id, f);
      if (f.severity === 'high' && this.d.sess.get(evse.id) && this.d.started()) {
        void this.d.sess.end(evse.id, stopReasonFor(f.kind), 'AbnormalCondition');
      }
    } else if (cause.kind === 'fault-cleared') {
      this.d.tell('fault-cleared', evse.id, cause.fault);
      this.openForCable(evse);
    }
  }

  /** Tell what changed on the EVSE: its status to the adapters, its charging state and power path to its session. */
  report(evse: Evse): void {
    const changes = evse.takeChanges();
    if (changes.status) this.d.tell('status', changes.status);
    if (changes.chargingState !== undefined) this.d.sess.chargingState(evse.id, changes.chargingState);
    if (changes.powerPath !== undefined) this.d.sess.powerPath(evse.id, changes.powerPath);
  }

  private onPlugged(evse: Evse): void {
    // A reserved EVSE waits for its token before a session opens (the status stays Reserved).
    if (!evse.usable || this.d.reservations.forEvse(evse.id)) return;
    this.d.sess.evConnected(evse);
  }

  /** A cable that is in while the EVSE could not take it (unavailable, faulted, reserved) gets its session once it can. */
  openForCable(evse: Evse): void {
    if (!this.d.running() || !evse.plugged || this.d.sess.cableHandled(evse.id) || this.d.sess.get(evse.id)) return;
    this.onPlugged(evse);
  }
}
