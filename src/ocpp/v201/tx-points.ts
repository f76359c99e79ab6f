/**
 * Where the OCPP transaction lies inside a station session: TxStartPoint / TxStopPoint of TxCtrlr
 * (E01–E07, "Flexible transaction start/stop") projected on the session's milestones, and the 2.0.1 words
 * (triggerReason, stoppedReason) for what the station reports.
 */
import type { Session, SessionEvent, SessionTrigger, StopReason } from '../../station/api.js';
import type { ReasonEnumType, TransactionEventEnumType } from '../messages/v201.js';
import type { DeviceModel } from './device-model.js';

type Point = 'ParkingBayOccupancy' | 'EVConnected' | 'Authorized' | 'PowerPathClosed' | 'EnergyTransfer' | 'DataSigned';

/** 2.0.1 ReasonEnumType has no reset/unlock kinds of 1.6; map them to their nearest 2.0.1 reason. */
export function toReason(r: StopReason): ReasonEnumType {
  switch (r) {
    case 'HardReset':
    case 'SoftReset':
      return 'Reboot';
    case 'UnlockCommand':
      return 'Other';
    default:
      return r;
  }
}

/** The stop reason implied by what ended a transaction, when the session carries none yet. */
export function reasonOfTrigger(t: SessionTrigger): StopReason {
  switch (t) {
    case 'EVDeparted':
    case 'EVCommunicationLost':
      return 'EVDisconnected';
    case 'StopAuthorized':
      return 'Local';
    case 'Deauthorized':
      return 'DeAuthorized';
    case 'RemoteStop':
      return 'Remote';
    case 'EVConnectTimeout':
      return 'Timeout';
    case 'EnergyLimitReached':
      return 'EnergyLimitReached';
    case 'TimeLimitReached':
      return 'TimeLimitReached';
    case 'ResetCommand':
      return 'ImmediateReset';
    default:
      return 'Other';
  }
}

/** Station stops after which a transaction may go on until the cable leaves (see waitsForCable). */
const LINGERING_TRIGGERS: ReadonlySet<SessionTrigger> = new Set([
  'StopAuthorized',
  'RemoteStop',
  'Deauthorized',
  'EVConnectTimeout',
  'EnergyLimitReached',
  'TimeLimitReached',
]);

/** TxStartPoint / TxStopPoint as the device model has them now (they may change between events). */
export class TxPoints {
  constructor(private readonly dm: DeviceModel) {}

  private points(key: 'TxCtrlr.TxStartPoint' | 'TxCtrlr.TxStopPoint'): Set<Point> {
    return new Set(this.dm.list(key) as Point[]);
  }

  /** Has the session reached one of the TxStartPoint conditions? */
  startReached(s: Session): boolean {
    const p = this.points('TxCtrlr.TxStartPoint');
    return (
      ((p.has('EVConnected') || p.has('ParkingBayOccupancy')) && s.evConnectedAt !== undefined) ||
      (p.has('Authorized') && s.authorizedAt !== undefined) ||
      (p.has('PowerPathClosed') && s.powerPathClosed) ||
      (p.has('EnergyTransfer') && s.chargingState === 'Charging')
    );
  }

  /** TC_E_12_CS: without a bay detector the bay is taken to be occupied when the cable comes in. */
  startsAtBay(): boolean {
    return this.points('TxCtrlr.TxStartPoint').has('ParkingBayOccupancy');
  }

  /**
   * Did this event (of a running session) make one of the TxStopPoint conditions false? PowerPathClosed
   * is lost with the EV or the authorization, not by a pause (E06.FR.06, "Flexible transaction start/stop");
   * EnergyTransfer when the charging state leaves Charging (E06.FR.07). Without a parking bay detector the
   * bay counts as occupied until the cable has left and the session is over (see Transactions.onDeparted).
   */
  stopReached(ev: SessionEvent, lastState: string | undefined): boolean {
    if (ev.type === 'ended') return true;
    const p = this.points('TxCtrlr.TxStopPoint');
    const quiet = ev.type === 'power-path-opened' || ev.type === 'charging-state';
    return (
      ((p.has('EVConnected') || p.has('PowerPathClosed')) && ev.type === 'ev-disconnected') ||
      ((p.has('Authorized') || p.has('PowerPathClosed')) && ev.type === 'deauthorized') ||
      (p.has('EnergyTransfer') && quiet && lastState === 'Charging' && ev.session.chargingState !== 'Charging')
    );
  }

  /**
   * The station ended its session (stop token, remote stop, deauthorization, timeout, limits) with the cable
   * still in. With a TxStopPoint that only waits for the cable (EVConnected / ParkingBayOccupancy), the
   * transaction goes on, energy off and authorization ended, until the cable leaves (E06.FR.02, E07 figure 55).
   * Faults, resets and shutdowns end it at once (E06.FR.16).
   */
  waitsForCable(ev: SessionEvent): boolean {
    if (ev.type !== 'ended' || ev.session.chargingState === 'Idle') return false;
    if (!LINGERING_TRIGGERS.has(ev.trigger)) return false;
    const p = this.points('TxCtrlr.TxStopPoint');
    const cable = p.has('EVConnected') || p.has('ParkingBayOccupancy');
    return cable && !p.has('Authorized') && !p.has('PowerPathClosed') && !p.has('EnergyTransfer');
  }

  /** 2.0.1 words for an unplug: EVCommunicationLost, or EVDeparted when only the (inferred) parking bay stops the transaction. */
  unplugTrigger(type: TransactionEventEnumType): SessionTrigger {
    const p = this.points('TxCtrlr.TxStopPoint');
    return type === 'Ended' && p.has('ParkingBayOccupancy') && !p.has('EVConnected') ? 'EVDeparted' : 'EVCommunicationLost';
  }
}
