/**
 * Storage faults never mean charging without records (issue 10, point 10). A durable write that fails
 * while a session runs (injected at the database: src/store/db.ts injectWriteFault, or a real
 * read-only connection) opens the contactor, reports the EVSE Faulted with the reason, lets no new
 * session start, and once writes work again (probe on the station clock) the held-back end reaches the
 * CSMS and the EVSE is Available again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectWriteFault } from '../src/store/db.js';
import { storageHealth } from '../src/store/health.js';
import { openSessions } from '../src/store/sessions.js';
import { STORAGE_PROBE_MS } from '../src/station/station.js';
import { IDENTITY, startV16Station, type V16Station } from './support/v16-station.js';
import { startV201Station } from './support/v201-station.js';

interface Status {
  connectorId: number;
  status: string;
  errorCode: string;
  info?: string;
}

async function charging(s: V16Station): Promise<void> {
  await s.until('boot', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  s.sim.plug(1);
  await s.run(1000);
  s.sim.tap('04A1B2C3');
  await s.until('StartTransaction', () => s.calls('StartTransaction').length === 1);
  s.sim.evReady(1);
  await s.until('contactor closed', () => s.sim.status().evses[0]!.contactorClosed);
  await s.run(5000);
}

for (const [name, fail, heal] of [
  ['SQLITE_FULL injected', (s: V16Station) => injectWriteFault(s.db, 'SQLITE_FULL'), (s: V16Station) => injectWriteFault(s.db, undefined)],
  ['SQLITE_IOERR_WRITE injected', (s: V16Station) => injectWriteFault(s.db, 'SQLITE_IOERR_WRITE'), (s: V16Station) => injectWriteFault(s.db, undefined)],
  // A real SQLite refusal, not the injection seam: the connection turned read-only (SQLITE_READONLY).
  ['a read-only connection (PRAGMA query_only)', (s: V16Station) => s.db.pragma('query_only = ON'), (s: V16Station) => s.db.pragma('query_only = OFF')],
] as const) {
  test(`1.6 storage fault during a session (${name}): contactor open, Faulted OtherError reaches the CSMS, no new session; recovery sends the StopTransaction and frees the EVSE`, async () => {
    const s = await startV16Station({ v16: { MeterValueSampleInterval: '10' } });
    try {
      await charging(s);
      const statusesBefore = s.calls<Status>('StatusNotification').length;
      const first = s.station.session(1)!.id;
      fail(s);
      // The next durable write (a periodic meter value) fails.
      await s.until('contactor open', () => !s.sim.status().evses[0]!.contactorClosed);
      assert.ok(storageHealth(s.db).fault, 'the tracker holds the fault');
      await s.until('Faulted reported', () => s.calls<Status>('StatusNotification').some((x) => x.connectorId === 1 && x.status === 'Faulted'));
      const faulted = s.calls<Status>('StatusNotification').slice(statusesBefore).find((x) => x.status === 'Faulted')!;
      assert.equal(faulted.errorCode, 'OtherError');
      assert.match(faulted.info ?? '', /^storage-failure: SQLITE_/);
      assert.equal(s.station.session(1), undefined, 'the session ended');
      assert.equal(s.calls('StopTransaction').length, 0, 'the end waits for the storage');

      // No new session while the storage is faulted: the CSMS sees no Authorize.
      s.sim.unplug(1);
      await s.run(1000);
      s.sim.plug(1);
      s.sim.tap('04A1B2C3');
      await s.run(5000);
      assert.equal(s.calls('Authorize').length, 1, 'only the first session asked');
      const remote = await s.csms.call<{ status: string }>(IDENTITY, 'RemoteStartTransaction', { connectorId: 1, idTag: '04A1B2C3' });
      assert.equal(remote.status, 'Rejected', '§5.11: a remote start is refused while no session can be recorded');
      assert.equal(s.station.session(1), undefined);
      assert.equal(s.sim.status().evses[0]!.contactorClosed, false);

      // Writes work again: the probe finds it, the end is written and sent, the EVSE is free again.
      heal(s);
      await s.run(STORAGE_PROBE_MS + 1000);
      await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
      const stop = s.calls<{ reason: string; transactionId: number }>('StopTransaction')[0]!;
      assert.equal(stop.reason, 'Other');
      const answered = s.csms.log.find((e) => e.type === 'result' && e.action === 'StartTransaction')!.payload as { transactionId: number };
      assert.equal(stop.transactionId, answered.transactionId);
      assert.equal(storageHealth(s.db).fault, undefined);
      assert.ok(!openSessions(s.db).some((o) => o.id === first), 'the ended session is on disk');
      const row = s.db.prepare('SELECT ended_at, end_reported FROM sessions WHERE id = ?').get(first) as { ended_at: number; end_reported: number };
      assert.ok(row.ended_at > 0);
      assert.equal(row.end_reported, 1);
      await s.until('not Faulted', () => s.calls<Status>('StatusNotification').slice(-1)[0]!.status !== 'Faulted');
      // The cable went in again during the fault: its session opens now, and a tap starts a transaction.
      s.sim.tap('04A1B2C3');
      await s.until('second StartTransaction', () => s.calls('StartTransaction').length === 2);
    } finally {
      await s.close();
    }
  });
}

test('1.6 the end of a session stopped while the storage is faulted is kept in memory and sent after recovery, never lost', async () => {
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' } });
  try {
    await charging(s);
    injectWriteFault(s.db, 'SQLITE_FULL');
    // The stop itself is the first write that fails.
    s.sim.tap('04A1B2C3');
    await s.until('contactor open', () => !s.sim.status().evses[0]!.contactorClosed);
    await s.until('Faulted', () => s.calls<Status>('StatusNotification').some((x) => x.status === 'Faulted'));
    await s.run(3 * STORAGE_PROBE_MS);
    assert.equal(s.calls('StopTransaction').length, 0);
    injectWriteFault(s.db, undefined);
    await s.run(STORAGE_PROBE_MS + 1000);
    await s.until('StopTransaction', () => s.calls('StopTransaction').length === 1);
    assert.equal(s.calls<{ reason: string }>('StopTransaction')[0]!.reason, 'Local');
    s.sim.unplug(1);
    await s.until('Available', () => s.calls<Status>('StatusNotification').slice(-1)[0]!.status === 'Available');
  } finally {
    await s.close();
  }
});

test('2.0.1 storage fault during a session: EVSE Faulted and a NotifyEvent (storage-failure) reported, the transaction ends after recovery with TransactionEvent Ended', async () => {
  const s = await startV201Station({});
  try {
    await s.until('boot', () => s.actions().includes('BootNotification') && s.calls('StatusNotification').length >= 1);
    s.sim.plug(1);
    await s.run(1000);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('contactor closed', () => s.sim.status().evses[0]!.contactorClosed);
    injectWriteFault(s.db, 'SQLITE_FULL');
    await s.until('contactor open', () => !s.sim.status().evses[0]!.contactorClosed, 4000);
    await s.until('Faulted reported', () => s.calls<{ connectorStatus: string }>('StatusNotification').some((x) => x.connectorStatus === 'Faulted'));
    await s.until('NotifyEvent', () =>
      s.calls<{ eventData: { techCode?: string }[] }>('NotifyEvent').some((n) => n.eventData.some((e) => e.techCode === 'storage-failure')),
    );
    const ended = (): number => s.calls<{ eventType: string }>('TransactionEvent').filter((e) => e.eventType === 'Ended').length;
    assert.equal(ended(), 0);
    injectWriteFault(s.db, undefined);
    await s.run(STORAGE_PROBE_MS + 1000);
    await s.until('TransactionEvent Ended', () => ended() === 1);
    await s.until('not Faulted', () => s.calls<{ connectorStatus: string }>('StatusNotification').slice(-1)[0]!.connectorStatus !== 'Faulted');
  } finally {
    await s.close();
  }
});
