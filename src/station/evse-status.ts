/**
 * The connector status of an EVSE, from its pilot/contactor layer and the read-only view of its
 * session. A pure function: the EVSE gives its facts, Sessions give theirs through SessionView.
 */
import type { HalFault, HalFaultKind, PilotState } from '../../hal/types.js';
import type { ConnectorState, ConnectorStatus } from './api.js';

/** IEC 61851-1: below 6 A there is no valid PWM, so the EV gets no offer at all. */
export const MIN_PWM_AMPS = 6;

export interface LockHolder {
  idToken: string;
  groupId?: string;
}

/**
 * What the pilot/contactor layer may know of the session on its EVSE. Sessions own every one of these
 * facts and change them; the EVSE only reads them, and looks again when told (Evse.update()).
 */
export interface SessionView {
  /** A session is open on this EVSE (authorized or not). */
  readonly active: boolean;
  /** The session may take energy. */
  readonly authorized: boolean;
  /** The CSMS refused the token of a session that goes on (StopTransactionOnInvalidId false): SuspendedEVSE. */
  readonly deauthorized: boolean;
  /** The open session has seen its EV plugged in. */
  readonly sawEv: boolean;
  /** The last session ended (after an authorization) with the cable still in, which has not left: Finishing. */
  readonly finishing: boolean;
  /** A session ended with this cable in: the cable alone opens no new one until it is unplugged. */
  readonly cableHandled: boolean;
  /** E09.FR.03: after an EV-side unplug ended the session, the cable stays locked for its owner. */
  readonly lockHolder: LockHolder | undefined;
}

export interface StatusFacts {
  evseId: number;
  at: number;
  pilot: PilotState;
  plugged: boolean;
  faults: ReadonlyMap<HalFaultKind, HalFault>;
  operative: boolean;
  reserved: boolean;
  session: SessionView;
  authorized: boolean;
  limitA: number | undefined;
  contactorClosed: boolean;
  drawing: boolean;
}

export function connectorStatus(f: StatusFacts): ConnectorState {
  const base = { evseId: f.evseId, connectorId: 1, at: f.at };
  const high = [...f.faults.values()].find((x) => x.severity === 'high');
  if (high) return { ...base, status: 'Faulted', ...shown(high) };
  if (f.pilot === 'E' || f.pilot === 'F') {
    const info = `pilot state ${f.pilot}`;
    return { ...base, status: 'Faulted', fault: { kind: 'pilot-error', severity: 'high', detail: info }, info };
  }
  const low = [...f.faults.values()][0];
  let status: ConnectorStatus;
  if (!f.operative) status = 'Unavailable';
  else if (f.session.active) status = sessionStatus(f);
  else if (f.session.finishing) status = 'Finishing';
  else if (f.reserved) status = 'Reserved';
  else status = 'Available';
  return { ...base, status, ...(low ? shown(low) : {}) };
}

/** Same status as far as anyone is told (status, fault, text)? */
export function sameStatus(a: ConnectorState, b: ConnectorState): boolean {
  return (
    a.status === b.status &&
    a.fault?.kind === b.fault?.kind &&
    a.fault?.vendorCode === b.fault?.vendorCode &&
    a.info === b.info
  );
}

function sessionStatus(f: StatusFacts): ConnectorStatus {
  if (!f.plugged) return f.session.sawEv && f.authorized ? 'SuspendedEV' : 'Preparing';
  if (f.session.deauthorized) return 'SuspendedEVSE';
  if (!f.authorized) return 'Preparing';
  // A smart-charging limit below the minimum PWM: the EVSE withholds energy, whatever the EV does
  // once its PWM is gone (an IEC 61851 EV answers a missing PWM by leaving state C).
  if (f.limitA !== undefined && f.limitA < MIN_PWM_AMPS) return 'SuspendedEVSE';
  const evWants = f.pilot === 'C' || f.pilot === 'D';
  if (evWants && f.contactorClosed) return f.drawing ? 'Charging' : 'SuspendedEV';
  if (evWants) return 'SuspendedEVSE';
  return 'SuspendedEV';
}

function shown(f: HalFault): { fault: HalFault; info: string } {
  return { fault: f, info: f.detail ? `${f.kind}: ${f.detail}`.slice(0, 50) : f.kind };
}

/** The session facts of one EVSE, written by Sessions alone; the EVSE holds it as a SessionView. */
export class SessionFacts implements SessionView {
  active = false;
  authorized = false;
  deauthorized = false;
  sawEv = false;
  finishing = false;
  cableHandled = false;
  lockHolder: LockHolder | undefined = undefined;
}
