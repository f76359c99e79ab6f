/**
 * Issue 10 #12: the one place that tells a CSMS that could not be asked (offline rules apply) from a
 * CSMS that answered with an error (a refusal), and the CsmsGateway wrapper both adapters use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createRPCError } from 'ocpp-rpc';
import { callGateway, classifyCallFailure } from '../src/ocpp/call-failure.js';
import { CallNotDeliveredError, CallTimeoutError } from '../src/ocpp/call-queue.js';
import { CsmsUnreachableError } from '../src/station/api.js';

// ocpp-rpc is CommonJS: TimeoutError (what a call that got no answer rejects with) is not a named ESM export.
const { TimeoutError } = createRequire(import.meta.url)('ocpp-rpc') as { TimeoutError: new (message: string) => Error };

test('unreachable: call timeout, connection dropped while waiting, link not connected', () => {
  assert.equal(classifyCallFailure(new TimeoutError('Call timeout')), 'unreachable');
  const aborted = Object.assign(new Error('Client disconnected'), { name: 'AbortError' });
  assert.equal(classifyCallFailure(aborted), 'unreachable');
  assert.equal(classifyCallFailure(new Error('OCPP link not connected: Authorize not sent')), 'unreachable');
  assert.equal(classifyCallFailure(new CsmsUnreachableError('CSMS offline')), 'unreachable');
  // What the link's own send queue rejects with: its time-out, and a connection gone while waiting.
  assert.equal(classifyCallFailure(new CallTimeoutError('Authorize', true, 30_000)), 'unreachable');
  assert.equal(classifyCallFailure(new CallNotDeliveredError('OCPP link disconnected: Authorize not delivered')), 'unreachable');
});

test('answered: every CALLERROR code, and anything else, is not "offline"', () => {
  for (const code of ['InternalError', 'FormationViolation', 'FormatViolation', 'RpcFrameworkError', 'SecurityError', 'NotImplemented', 'GenericError']) {
    assert.equal(classifyCallFailure(createRPCError(code, 'no')), 'answered', code);
  }
  assert.equal(classifyCallFailure(new TypeError('bad answer')), 'answered');
  assert.equal(classifyCallFailure('weird'), 'answered');
});

test('callGateway: offline or unreachable rejects with CsmsUnreachableError; a CALLERROR passes through as it is', async () => {
  let called = false;
  await assert.rejects(
    callGateway(false, () => {
      called = true;
      return Promise.resolve(1);
    }),
    CsmsUnreachableError,
  );
  assert.equal(called, false, 'not even tried while offline');
  await assert.rejects(callGateway(true, () => Promise.reject(new TimeoutError('Call timeout'))), CsmsUnreachableError);
  const refusal = createRPCError('InternalError', 'cannot check');
  await assert.rejects(callGateway(true, () => Promise.reject(refusal)), (err) => err === refusal);
  assert.equal(await callGateway(true, () => Promise.resolve(42)), 42);
});
