/**
 * Errors a driver's command can end with, as the station must read them. A command that never reached
 * the device (its port is gone, the board does not answer) says nothing about the hardware: a failed
 * "open the contactor" then is a communication fault, not a welded contactor (issue 10 #11).
 */

/** The command did not reach the device, or no answer came back: its effect is unknown. */
export class UndeliveredError extends Error {
  override name = 'UndeliveredError';
}

/** True for UndeliveredError and for driver errors that mark themselves `undelivered` (RapiError). */
export function isUndelivered(err: unknown): boolean {
  if (err instanceof UndeliveredError) return true;
  return typeof err === 'object' && err !== null && (err as { undelivered?: unknown }).undelivered === true;
}
