/**
 * Why a CALL to the CSMS failed, in one place: "unreachable" (there was no answer to be had: not
 * connected, the connection dropped while waiting, the call timed out) or "answered" (a CALLERROR, or a
 * response that failed validation). Only an unreachable CSMS lets the station apply its offline rules;
 * a CSMS that answered with an error has refused (issue 10 point 12).
 */
import { CsmsUnreachableError } from '../station/api.js';

export type CallFailure = 'unreachable' | 'answered';

export function classifyCallFailure(err: unknown): CallFailure {
  if (err instanceof CsmsUnreachableError) return 'unreachable';
  if (err === null || typeof err !== 'object') return 'answered';
  const e = err as { rpcErrorCode?: unknown; name?: unknown; message?: unknown; constructor?: { name?: string } };
  // ocpp-rpc: a CALLERROR from the peer or a response our strict validation refused.
  if (typeof e.rpcErrorCode === 'string') return 'answered';
  const name = typeof e.name === 'string' ? e.name : '';
  // A call with no answer in time (TimeoutError: ours from ./call-queue.ts, or ocpp-rpc's), one cut by
  // the connection closing while it waited (CallNotDeliveredError from ./call-queue.ts, ocpp-rpc's
  // AbortError); our link refuses a call while not connected.
  if (name === 'TimeoutError' || e.constructor?.name === 'TimeoutError' || name === 'AbortError' || name === 'CallNotDeliveredError') return 'unreachable';
  if (typeof e.message === 'string' && /not connected/i.test(e.message)) return 'unreachable';
  return 'answered';
}

/**
 * Run a CALL for the station's CsmsGateway: an unreachable CSMS rejects with CsmsUnreachableError,
 * every other failure is passed on as it is (a refusal for the station).
 */
export async function callGateway<T>(online: boolean, call: () => Promise<T>): Promise<T> {
  if (!online) throw new CsmsUnreachableError('CSMS offline');
  try {
    return await call();
  } catch (err) {
    if (classifyCallFailure(err) === 'unreachable') throw new CsmsUnreachableError(err instanceof Error ? err.message : String(err));
    throw err;
  }
}
