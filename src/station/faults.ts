/** How hardware faults read in OCPP terms and what they do to a running session. */
import type { HalFaultKind } from '../../hal/types.js';
import type { ErrorCode, StopReason } from './api.js';

const codes: Record<HalFaultKind, ErrorCode> = {
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

export function errorCodeFor(kind: HalFaultKind): ErrorCode {
  return codes[kind];
}

/** The stop reason of a session ended by a high-severity fault. */
export function stopReasonFor(kind: HalFaultKind): StopReason {
  switch (kind) {
    case 'emergency-stop':
      return 'EmergencyStop';
    case 'rcd-trip':
    case 'ground-failure':
      return 'GroundFault';
    case 'overcurrent':
      return 'OvercurrentFault';
    default:
      return 'Other';
  }
}
