/**
 * Issue 12 point 3: the 2.0.1 adapter keeps one record per open transaction (src/ocpp/v201/tx-record.ts)
 * instead of parallel maps. The record is created with Started, follows every event (seqNo, charging state
 * told, samples), is gone once the Ended is out, and after a power cut is rebuilt from v201_transactions with
 * the seqNo the store has, so the Ended continues the transaction's sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { V201TransactionRepo } from '../src/store/v201-transactions.js';
import { V201TxRecords } from '../src/ocpp/v201/tx-record.js';
import { startCharging, startV201Station, type V201Station } from './support/v201-station.js';

type Tx = { eventType: string; seqNo: number; transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string } };
const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');

test('issue 12 #3 E01/E06: a transaction record is created at Started, updated by each event, and removed when its Ended is answered', async () => {
  const s = await startV201Station({ variables: { 'SampledDataCtrlr.TxUpdatedInterval': '30', 'SampledDataCtrlr.TxEndedInterval': '30' } });
  const records = (): V201TxRecords => s.adapter.transactions.records;
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    assert.equal(records().all().length, 0, 'no record before any transaction');
    await startCharging(s);
    await s.until('Charging told', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
    const id = txs(s)[0]!.transactionInfo.transactionId;
    const rec = records().get(id);
    assert.ok(rec, 'created with Started');
    assert.equal(rec.evseId, 1);
    assert.equal(rec.lastState, 'Charging');
    assert.equal(rec.idTokenSent, true);
    await s.run(65_000);
    await s.until('all answered', () => records().get(id)?.queued === 0);
    const sent = txs(s).filter((t) => t.transactionInfo.transactionId === id);
    assert.ok(sent.some((t) => t.eventType === 'Updated' && t.seqNo >= 2), 'periodic Updated events went out');
    assert.equal(rec.seqNo, sent.at(-1)!.seqNo + 1, 'the record holds the next seqNo');
    assert.ok(rec.lastSample, 'the last meter sample is kept for Ended');
    assert.ok(rec.endedSamples.length >= 1, 'TxEndedInterval samples are kept');
    assert.deepEqual(records().open().map((t) => t.id), [id]);
    s.sim.unplug(1);
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    await s.until('record gone', () => records().get(id) === undefined);
    assert.equal(records().all().length, 0);
    assert.equal(s.adapter.transactions.isStarted(id), false);
  } finally {
    await s.close();
  }
});

test('issue 12 #3 E: after a power cut the open transaction is rebuilt from the store with the same seqNo, and its Ended(PowerLoss) continues from it', async () => {
  const s = await startV201Station();
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    await startCharging(s);
    await s.run(1_000);
    await s.until('all answered', () => s.adapter.transactions.records.all().every((t) => t.queued === 0));
    const id = txs(s)[0]!.transactionInfo.transactionId;
    const live = s.adapter.transactions.records.get(id)!;
    const fromStore = new V201TxRecords(new V201TransactionRepo(s.db));
    fromStore.load();
    const rebuilt = fromStore.get(id);
    assert.ok(rebuilt, 'the store has the open transaction');
    assert.equal(rebuilt.seqNo, live.seqNo);
    assert.equal(rebuilt.idTokenSent, true);
    assert.equal(rebuilt.evseId, live.evseId);
    const next = live.seqNo;
    await s.restart();
    await s.until('Ended', () => txs(s).some((t) => t.eventType === 'Ended'));
    const end = txs(s).at(-1)!;
    assert.equal(end.transactionInfo.transactionId, id);
    assert.equal(end.transactionInfo.stoppedReason, 'PowerLoss');
    assert.equal(end.seqNo, next, 'Ended carries the seqNo the record was rebuilt with');
    await s.until('record gone', () => s.adapter.transactions.records.get(id) === undefined);
  } finally {
    await s.close();
  }
});
