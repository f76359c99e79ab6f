/** What a fault does to a running session (how it reads in OCPP is each adapter's: src/ocpp/v16/error-codes.ts). */
import type { HalFaultKind } from '../../hal/types.js';
import type { StopReason } from './api.js';

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
