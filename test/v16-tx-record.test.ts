/**
 * Issue 12 point 3 for 1.6: one record per transaction (src/ocpp/v16/tx-record.ts). It is created when
 * StartTransaction is queued, takes the transactionId of its answer, marks the StopTransaction queued, and is
 * gone once that is answered; a restart rebuilds it from v16_transactions with the same transactionId.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { V16TransactionRepo } from '../src/store/v16-transactions.js';
import { V16TxRecords } from '../src/ocpp/v16/tx-record.js';
import { startV16Station } from './support/v16-station.js';

test('issue 12 #3 / 4.8 / 4.10: a 1.6 transaction record lives from StartTransaction to the answer of its StopTransaction, and a restart rebuilds it from the store', async () => {
  const s = await startV16Station();
  try {
    await s.until('boot', () => s.adapter.registration === 'Accepted');
    assert.equal(s.adapter.txRecords.all().length, 0);
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('StartTransaction answered', () => s.calls('StartTransaction').length === 1 && s.link.pendingCount() === 0);
    const tid = (s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number }).transactionId;
    const [rec] = s.adapter.txRecords.all();
    assert.ok(rec, 'created with StartTransaction');
    assert.equal(rec.transactionId, tid, 'the transactionId of the answer');
    assert.equal(rec.idTag, '04A1B2C3');
    assert.equal(rec.startPending, false, 'the start is answered');
    assert.equal(rec.stopQueued, false);
    const rebuilt = new V16TxRecords(new V16TransactionRepo(s.db)).get(rec.sessionId);
    assert.deepEqual(rebuilt && { ...rebuilt, startPending: false }, { ...rec }, 'the store holds the same record');

    await s.restart();
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    const stop = s.calls<{ transactionId: number; reason: string }>('StopTransaction')[0]!;
    assert.equal(stop.reason, 'PowerLoss');
    assert.equal(stop.transactionId, tid, 'the record rebuilt after the restart gave the StopTransaction its transactionId');
    await s.until('record gone', () => s.adapter.txRecords.get(rec.sessionId) === undefined && s.link.pendingCount() === 0);
    assert.equal(new V16TransactionRepo(s.db).get(rec.sessionId), undefined, 'and its row');
  } finally {
    await s.close();
  }
});
