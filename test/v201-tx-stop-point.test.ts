/**
 * E06 TxStopPoint end to end (simulated board, real station, real link, 2.0.1 adapter, strict CSMS): where
 * the TransactionEvent Ended falls for each stop point, and what comes between a stop and the unplug when
 * the transaction waits for the cable (E07 figure 55, TC_E_14/15/07/35/08/22/20/37).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCsms } from './support/csms.js';
import { startV201Station, type V201Station } from './support/v201-station.js';
import type { Tx } from './v201-transactions.test.js';

const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const ended = (s: V201Station): boolean => txs(s).some((t) => t.eventType === 'Ended');
const brief = (t: Tx): string => `${t.eventType}:${t.triggerReason}`;
const evse1 = (s: V201Station) => s.sim.status().evses[0]!;

async function booted(variables: Record<string, string>, csms?: Awaited<ReturnType<typeof startCsms>>): Promise<V201Station> {
  const s = await startV201Station({ variables, ...(csms ? { csms } : {}) });
  await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
  await s.until('status', () => s.calls('StatusNotification').length === 1);
  return s;
}

/** Plug, tap, EV asks for energy, charge a minute: the transaction is Started and Charging. */
async function charging(s: V201Station): Promise<string> {
  s.sim.plug(1);
  s.sim.tap('04A1B2C3');
  s.sim.evReady(1);
  await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
  await s.run(60_000);
  return txs(s)[0]!.transactionInfo.transactionId;
}

function assertGapless(list: Tx[]): void {
  assert.deepEqual(
    list.map((t) => t.seqNo),
    list.map((_, i) => i),
  );
  assert.equal(new Set(list.map((t) => t.transactionInfo.transactionId)).size, 1);
}

test('TC_E_14_CS / E06.FR.02 / E07.FR.02 TxStopPoint EVConnected, stop by token: Updated(StopAuthorized, idToken, EVConnected) with the contactor open; Ended(EVCommunicationLost, Idle, Local, Transaction.End) only at the unplug', async () => {
  const s = await booted({ 'TxCtrlr.TxStopPoint': 'EVConnected' });
  try {
    const txId = await charging(s);
    const before = txs(s).length;
    s.sim.tap('04A1B2C3');
    await s.until('StopAuthorized', () => txs(s).some((t) => t.triggerReason === 'StopAuthorized'));
    await s.run(120_000);
    const stop = txs(s).find((t) => t.triggerReason === 'StopAuthorized')!;
    assert.equal(stop.eventType, 'Updated');
    assert.deepEqual(stop.idToken, { idToken: '04A1B2C3', type: 'ISO14443' }, 'E07.FR.02: the stopping idToken');
    assert.equal(stop.transactionInfo.chargingState, 'EVConnected');
    assert.equal(stop.transactionInfo.stoppedReason, undefined);
    assert.equal(evse1(s).contactorClosed, false, 'energy is off at the stop');
    assert.equal(evse1(s).pwmAmps, 0);
    assert.equal(ended(s), false, 'the transaction goes on while the cable is in');
    assert.equal(txs(s).length, before + 1, 'nothing else while it waits (no periodic values: no energy)');
    const status = await s.call<{ ongoingIndicator?: boolean }>('GetTransactionStatus', { transactionId: txId });
    assert.equal(status.ongoingIndicator, true, 'E14: still ongoing');

    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assertGapless(list);
    const last = list.at(-1)!;
    assert.equal(brief(last), 'Ended:EVCommunicationLost');
    assert.equal(last.transactionInfo.chargingState, 'Idle');
    assert.equal(last.transactionInfo.stoppedReason, 'Local');
    assert.equal(last.idToken, undefined, 'the stopping idToken was sent once, with StopAuthorized');
    const end = last.meterValue?.at(-1)?.sampledValue[0];
    assert.equal(end?.context, 'Transaction.End');
    assert.ok((end?.value ?? 0) > 0);
    assert.equal(list.filter((t) => t.eventType === 'Ended').length, 1);
  } finally {
    await s.close();
  }
});

test('TC_E_14_CS / F03 TxStopPoint EVConnected, RequestStopTransaction: Updated(RemoteStop) at the stop, Ended(EVCommunicationLost, stoppedReason Remote) at the unplug', async () => {
  const s = await booted({ 'TxCtrlr.TxStopPoint': 'EVConnected' });
  try {
    const txId = await charging(s);
    const res = await s.call<{ status: string }>('RequestStopTransaction', { transactionId: txId });
    assert.equal(res.status, 'Accepted');
    await s.until('RemoteStop', () => txs(s).some((t) => t.triggerReason === 'RemoteStop'));
    await s.run(5_000);
    assert.equal(brief(txs(s).at(-1)!), 'Updated:RemoteStop');
    assert.equal(ended(s), false);
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(brief(last), 'Ended:EVCommunicationLost');
    assert.equal(last.transactionInfo.stoppedReason, 'Remote');
    assertGapless(txs(s));
  } finally {
    await s.close();
  }
});

test('E06 stop by token for each TxStopPoint: Authorized / PowerPathClosed / EnergyTransfer and combinations with EVConnected end at the stop (E06.FR.03/06/07, TC_E_15/07/08); EVConnected and ParkingBayOccupancy alone wait for the unplug (EVDeparted for the bay, inferred from the cable)', async () => {
  const cases: [string, string, string][] = [
    // TxStopPoint, the event at the stop, the event at the unplug ('' = none)
    ['Authorized', 'Ended:StopAuthorized', ''],
    ['PowerPathClosed', 'Ended:StopAuthorized', ''],
    ['EnergyTransfer', 'Ended:StopAuthorized', ''],
    ['EVConnected,Authorized', 'Ended:StopAuthorized', ''],
    ['EVConnected,EnergyTransfer', 'Ended:StopAuthorized', ''],
    ['EVConnected', 'Updated:StopAuthorized', 'Ended:EVCommunicationLost'],
    ['ParkingBayOccupancy', 'Updated:StopAuthorized', 'Ended:EVDeparted'],
    ['EVConnected,ParkingBayOccupancy', 'Updated:StopAuthorized', 'Ended:EVCommunicationLost'],
  ];
  for (const [point, atStop, atUnplug] of cases) {
    const s = await booted({ 'TxCtrlr.TxStopPoint': point });
    try {
      await charging(s);
      const n = txs(s).length;
      s.sim.tap('04A1B2C3');
      await s.until(`${point}: stop`, () => txs(s).length > n);
      await s.run(2_000);
      assert.deepEqual(txs(s).slice(n).map(brief), [atStop], point);
      const m = txs(s).length;
      s.sim.unplug(1);
      await s.run(5_000);
      assert.deepEqual(txs(s).slice(m).map(brief), atUnplug ? [atUnplug] : [], point);
      assertGapless(txs(s));
    } finally {
      await s.close();
    }
  }
});

test('TC_E_12_CS / E06 S1 TxStartPoint and TxStopPoint ParkingBayOccupancy (no bay detector: inferred from the cable): Started(EVDetected) at the plug-in, Updated(StopAuthorized) at the stop, Ended(EVDeparted, Local) when the cable leaves', async () => {
  const s = await booted({ 'TxCtrlr.TxStartPoint': 'ParkingBayOccupancy', 'TxCtrlr.TxStopPoint': 'ParkingBayOccupancy' });
  try {
    s.sim.plug(1);
    await s.until('Started', () => txs(s).length === 1);
    assert.equal(brief(txs(s)[0]!), 'Started:EVDetected');
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
    s.sim.tap('04A1B2C3');
    await s.until('StopAuthorized', () => txs(s).some((t) => t.triggerReason === 'StopAuthorized'));
    await s.run(5_000);
    assert.equal(ended(s), false);
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assert.deepEqual(list.slice(-2).map(brief), ['Updated:StopAuthorized', 'Ended:EVDeparted']);
    assert.equal(list.at(-1)!.transactionInfo.stoppedReason, 'Local');
    assertGapless(list);
  } finally {
    await s.close();
  }
});

test('TC_E_07_CS / "Flexible transaction start/stop": with TxStopPoint PowerPathClosed an EV pause (contactor open, SuspendedEV) does not end the transaction; TC_E_22_CS with EnergyTransfer it does (ChargingStateChanged, StoppedByEV)', async () => {
  for (const [point, expected] of [
    ['PowerPathClosed', 'Updated:ChargingStateChanged'],
    ['EnergyTransfer', 'Ended:ChargingStateChanged'],
  ] as const) {
    const s = await booted({ 'TxCtrlr.TxStopPoint': point });
    try {
      await charging(s);
      const n = txs(s).length;
      s.sim.evPause(1);
      await s.until(`${point}: pause`, () => txs(s).slice(n).some((t) => t.triggerReason === 'ChargingStateChanged'));
      assert.equal(evse1(s).contactorClosed, false);
      const ev = txs(s).slice(n).find((t) => t.triggerReason === 'ChargingStateChanged')!;
      assert.equal(brief(ev), expected, point);
      assert.equal(ev.transactionInfo.chargingState, 'SuspendedEV');
      if (point === 'EnergyTransfer') {
        assert.equal(ev.transactionInfo.stoppedReason, 'StoppedByEV', 'TC_E_22_CS');
      } else {
        s.sim.tap('04A1B2C3');
        await s.until('Ended', () => ended(s));
        const last = txs(s).at(-1)!;
        assert.equal(brief(last), 'Ended:StopAuthorized', 'TC_E_07_CS: the local stop ends it');
        assert.equal(last.transactionInfo.stoppedReason, 'Local');
      }
      assertGapless(txs(s));
    } finally {
      await s.close();
    }
  }
});

test('TC_E_20_CS / TC_E_37_CS EV side unplug with StopTxOnEVSideDisconnect false: EVConnected or PowerPathClosed ends the transaction (EVCommunicationLost, Idle, EVDisconnected); with Authorized alone it goes on (Updated)', async () => {
  for (const [point, expected] of [
    ['EVConnected', 'Ended:EVCommunicationLost'],
    ['PowerPathClosed', 'Ended:EVCommunicationLost'],
    ['Authorized', 'Updated:EVCommunicationLost'],
  ] as const) {
    const s = await booted({ 'TxCtrlr.TxStopPoint': point, 'TxCtrlr.StopTxOnEVSideDisconnect': 'false' });
    try {
      await charging(s);
      const n = txs(s).length;
      s.sim.unplug(1);
      await s.until(`${point}: unplug`, () => txs(s).slice(n).some((t) => t.triggerReason === 'EVCommunicationLost'));
      const ev = txs(s).slice(n).find((t) => t.triggerReason === 'EVCommunicationLost')!;
      assert.equal(brief(ev), expected, point);
      assert.equal(ev.transactionInfo.chargingState, 'Idle');
      if (ev.eventType === 'Ended') assert.equal(ev.transactionInfo.stoppedReason, 'EVDisconnected');
    } finally {
      await s.close();
    }
  }
});

test('E06.FR.04 / C15 TxStopPoint EVConnected, the CSMS answers Invalid for the idToken: energy off, one Updated(Deauthorized), the transaction ends only at the unplug (EVCommunicationLost, DeAuthorized)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('TransactionEvent', (p) => ((p as { idToken?: unknown }).idToken !== undefined ? { idTokenInfo: { status: 'Invalid' } } : {}));
  const s = await booted({ 'TxCtrlr.TxStopPoint': 'EVConnected' }, csms);
  try {
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Deauthorized', () => txs(s).some((t) => t.triggerReason === 'Deauthorized'));
    await s.run(30_000);
    assert.equal(evse1(s).contactorClosed, false);
    assert.equal(ended(s), false);
    const deauth = txs(s).filter((t) => t.triggerReason === 'Deauthorized');
    assert.deepEqual(deauth.map(brief), ['Updated:Deauthorized'], 'told once');
    assert.equal(txs(s).filter((t) => t.transactionInfo.chargingState).at(-1)?.transactionInfo.chargingState, 'EVConnected', 'authorization ended');
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(brief(last), 'Ended:EVCommunicationLost');
    assert.equal(last.transactionInfo.stoppedReason, 'DeAuthorized');
    assertGapless(txs(s));
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TxStopPoint EVConnected: a new authorization on the cable still in ends the waiting transaction before the next one starts', async () => {
  const s = await booted({ 'TxCtrlr.TxStopPoint': 'EVConnected' });
  try {
    const first = await charging(s);
    s.sim.tap('04A1B2C3');
    await s.until('StopAuthorized', () => txs(s).some((t) => t.triggerReason === 'StopAuthorized'));
    await s.run(2_000);
    s.sim.tap('0B0B0B0B');
    await s.until('second Started', () => txs(s).some((t) => t.eventType === 'Started' && t.transactionInfo.transactionId !== first));
    const list = txs(s);
    const endFirst = list.findIndex((t) => t.eventType === 'Ended' && t.transactionInfo.transactionId === first);
    const startSecond = list.findIndex((t) => t.eventType === 'Started' && t.transactionInfo.transactionId !== first);
    assert.ok(endFirst >= 0 && endFirst < startSecond, 'Ended of the first before Started of the second');
    assert.equal(list[endFirst]!.transactionInfo.stoppedReason, 'Local');
    assertGapless(list.filter((t) => t.transactionInfo.transactionId === first));
  } finally {
    await s.close();
  }
});

test('TxStopPoint EVConnected: a transaction waiting for its cable when the power fails is Ended at the next start', async () => {
  const s = await booted({ 'TxCtrlr.TxStopPoint': 'EVConnected' });
  try {
    const txId = await charging(s);
    s.sim.tap('04A1B2C3');
    await s.until('StopAuthorized', () => txs(s).some((t) => t.triggerReason === 'StopAuthorized'));
    await s.run(2_000);
    await s.restart();
    await s.until('Ended', () => ended(s));
    const mine = txs(s).filter((t) => t.transactionInfo.transactionId === txId);
    assert.equal(mine.filter((t) => t.eventType === 'Ended').length, 1);
    assert.equal(mine.at(-1)!.transactionInfo.stoppedReason, 'Local');
    assertGapless(mine);
  } finally {
    await s.close();
  }
});
