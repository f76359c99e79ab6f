/**
 * A 2.0.1 transaction that waits for its cable after a stop (TxStopPoint EVConnected): the station's session
 * is over, the OCPP transaction is not. RequestStopTransaction (F03), TriggerMessage (F06), GetTransactionStatus
 * (E14) and Reset OnIdle (B12) treat it as the active transaction it is, until the Ended at the unplug.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, type V201Station } from './support/v201-station.js';
import type { Tx } from './v201-transactions.test.js';

const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const ended = (s: V201Station): boolean => txs(s).some((t) => t.eventType === 'Ended');
const brief = (t: Tx): string => `${t.eventType}:${t.triggerReason}`;

/** Charging under TxStopPoint EVConnected, then stopped by the token: the transaction waits for the cable. */
async function waiting(): Promise<{ s: V201Station; txId: string }> {
  const s = await bootedV201Station({ variables: { 'TxCtrlr.TxStopPoint': 'EVConnected' } });
  s.sim.plug(1);
  s.sim.tap('04A1B2C3');
  s.sim.evReady(1);
  await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
  await s.run(60_000);
  const txId = txs(s)[0]!.transactionInfo.transactionId;
  s.sim.tap('04A1B2C3');
  await s.until('StopAuthorized', () => txs(s).some((t) => t.triggerReason === 'StopAuthorized'));
  await s.run(5_000);
  assert.equal(s.station.session(1), undefined, 'the station session is over');
  assert.equal(ended(s), false, 'the transaction is not');
  return { s, txId };
}

test('TC_F_08_CS / F03.FR.07 / F03.FR.02: RequestStopTransaction for a transaction waiting for its cable is Accepted and told as Updated(RemoteStop); the Ended comes at the unplug with the first stop\'s reason; an unknown id stays Rejected (F03.FR.08)', async () => {
  const { s, txId } = await waiting();
  try {
    const before = txs(s).length;
    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: txId }), { status: 'Accepted' });
    await s.until('RemoteStop', () => txs(s).length > before);
    await s.run(5_000);
    const remote = txs(s).slice(before);
    assert.deepEqual(remote.map(brief), ['Updated:RemoteStop']);
    assert.equal(remote[0]!.idToken, undefined);
    assert.equal(ended(s), false, 'still waiting for the cable');
    assert.equal(s.sim.status().evses[0]!.contactorClosed, false);
    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: 'no-such-tx' }), { status: 'Rejected' });

    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(brief(last), 'Ended:EVCommunicationLost');
    assert.equal(last.transactionInfo.stoppedReason, 'Local', 'the stop that turned the energy off was the token');
    assert.deepEqual(await s.call('RequestStopTransaction', { transactionId: txId }), { status: 'Rejected' }, 'F03.FR.08 once Ended');
    assert.deepEqual(
      txs(s).map((t) => t.seqNo),
      txs(s).map((_, i) => i),
    );
  } finally {
    await s.close();
  }
});

test('TC_F_13_CS / F06.FR.07: TriggerMessage(TransactionEvent) includes a transaction waiting for its cable (Updated Trigger, chargingState EVConnected); after its Ended it is Rejected', async () => {
  const { s, txId } = await waiting();
  try {
    const before = txs(s).length;
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } }), { status: 'Accepted' });
    await s.until('Trigger', () => txs(s).length > before);
    const t = txs(s).at(-1)!;
    assert.equal(brief(t), 'Updated:Trigger');
    assert.equal(t.transactionInfo.transactionId, txId);
    assert.equal(t.transactionInfo.chargingState, 'EVConnected');
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'TransactionEvent' }), { status: 'Accepted' }, 'without an EVSE too');

    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'TransactionEvent', evse: { id: 1 } }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('TC_E_30_CS / TC_E_32_CS / E14.FR.02 / E14.FR.03: GetTransactionStatus says ongoingIndicator true while the transaction waits for its cable, false after its Ended', async () => {
  const { s, txId } = await waiting();
  try {
    await s.run(5_000);
    const during = await s.call<{ ongoingIndicator?: boolean; messagesInQueue: boolean }>('GetTransactionStatus', { transactionId: txId });
    assert.deepEqual(during, { ongoingIndicator: true, messagesInQueue: false });
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    await s.run(5_000);
    const after = await s.call<{ ongoingIndicator?: boolean; messagesInQueue: boolean }>('GetTransactionStatus', { transactionId: txId });
    assert.equal(after.ongoingIndicator, false);
  } finally {
    await s.close();
  }
});

test('B12.FR.01 / B12.FR.03 (TC_B_41_CS): Reset OnIdle while a transaction waits for its cable is Scheduled; the restart comes only after the Ended at the unplug, and boots with ScheduledReset', async () => {
  const { s } = await waiting();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.deepEqual(await s.call('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
    assert.deepEqual(await s.call('Reset', { type: 'OnIdle', evseId: 1 }), { status: 'Scheduled' }, 'the EVSE is not idle either');
    await s.run(120_000);
    assert.equal(restarts.length, 0, 'no restart while the transaction is open');
    assert.equal(ended(s), false);

    s.sim.unplug(1);
    await s.until('restart', () => restarts.length === 1);
    assert.equal(brief(txs(s).at(-1)!), 'Ended:EVCommunicationLost', 'the Ended is queued before the restart');
    await s.restart();
    await s.until('boot', () => s.calls('BootNotification').length === 2);
    assert.equal(s.calls<{ reason: string }>('BootNotification')[1]!.reason, 'ScheduledReset');
    await s.until('Ended delivered', () => txs(s).filter((t) => t.eventType === 'Ended').length === 1);
    assert.equal(txs(s).filter((t) => t.eventType === 'Ended').length, 1, 'one Ended, no second one from recovery');
  } finally {
    await s.close();
  }
});

test('TC_B_22_CS / B12.FR.02 / E06.FR.15: Reset Immediate while a transaction waits for its cable: Accepted, Ended(ResetCommand, ImmediateReset) before the restart, no second Ended after it', async () => {
  const { s, txId } = await waiting();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.deepEqual(await s.call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.until('restart', () => restarts.length === 1);
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(brief(last), 'Ended:ResetCommand');
    assert.equal(last.transactionInfo.transactionId, txId);
    assert.equal(last.transactionInfo.stoppedReason, 'ImmediateReset');
    await s.restart();
    await s.until('boot', () => s.calls('BootNotification').length === 2);
    await s.run(10_000);
    assert.equal(txs(s).filter((t) => t.eventType === 'Ended').length, 1);
  } finally {
    await s.close();
  }
});

test('C01.FR.23 limit (README): a new authorization with the cable still in Ends the waiting transaction and Starts a new one; a Scheduled Reset OnIdle then waits for the new session, not only for the old transaction', async () => {
  const { s, txId } = await waiting();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.deepEqual(await s.call('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
    s.sim.tap('0B0B0B0B');
    await s.until('second Started', () => txs(s).some((t) => t.eventType === 'Started' && t.transactionInfo.transactionId !== txId));
    const first = txs(s).filter((t) => t.transactionInfo.transactionId === txId);
    assert.equal(first.at(-1)!.eventType, 'Ended');
    assert.equal(first.at(-1)!.transactionInfo.stoppedReason, 'Local');
    await s.run(60_000);
    assert.equal(restarts.length, 0, 'the new session keeps the station busy');
    s.sim.unplug(1);
    await s.until('restart', () => restarts.length === 1);
    assert.equal(txs(s).filter((t) => t.eventType === 'Ended').length, 2);
  } finally {
    await s.close();
  }
});
