/** How the station's version-neutral faults read in OCPP 1.6 (ChargePointErrorCode, info, vendorErrorCode). */
import type { ConnectorState, FaultKind } from '../../station/api.js';

/** OCPP 1.6 ChargePointErrorCode, which the station's faults map to. */
export type ErrorCode =
  | 'NoError'
  | 'ConnectorLockFailure'
  | 'EVCommunicationError'
  | 'GroundFailure'
  | 'HighTemperature'
  | 'InternalError'
  | 'OtherError'
  | 'OverCurrentFailure'
  | 'PowerMeterFailure'
  | 'PowerSwitchFailure'
  | 'ReaderFailure';

const codes: Record<FaultKind, ErrorCode> = {
  'lock-failure': 'ConnectorLockFailure',
  'meter-silent': 'PowerMeterFailure',
  'rcd-trip': 'GroundFailure',
  'ground-failure': 'GroundFailure',
  'diode-failure': 'EVCommunicationError',
  'pilot-error': 'EVCommunicationError',
  'pilot-board-lost': 'EVCommunicationError',
  'contactor-welded': 'PowerSwitchFailure',
  'contactor-stuck-open': 'PowerSwitchFailure',
  'reader-failure': 'ReaderFailure',
  overcurrent: 'OverCurrentFailure',
  'high-temperature': 'HighTemperature',
  'emergency-stop': 'OtherError',
  'port-lost': 'OtherError',
  'storage-failure': 'OtherError',
  // Not PowerSwitchFailure: nothing says the hardware failed, only that it could not be told.
  'comm-failure': 'OtherError',
};

export function errorCodeFor(kind: FaultKind): ErrorCode {
  return codes[kind];
}

/** The 1.6 StatusNotification fields of a connector state: errorCode, info, vendorErrorCode. */
export interface ErrorFields {
  errorCode: ErrorCode;
  info?: string;
  vendorErrorCode?: string;
}

export function errorFieldsOf(state: Pick<ConnectorState, 'fault' | 'info'>): ErrorFields {
  const f = state.fault;
  const vendor = f?.vendorCode ?? (f?.kind === 'emergency-stop' ? 'EmergencyStop' : undefined);
  return {
    errorCode: f ? errorCodeFor(f.kind) : 'NoError',
    ...(state.info !== undefined ? { info: state.info } : {}),
    ...(vendor !== undefined ? { vendorErrorCode: vendor } : {}),
  };
}
