/**
 * E: 2.0.1 transactions end to end on the simulated board (real Station, real link, 2.0.1 adapter),
 * asserting the TransactionEvent sequence the strict CSMS saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRPCError } from 'ocpp-rpc';
import { startCsms } from './support/csms.js';
import { bootedV201Station, startCharging, startV201Station, type V201Station } from './support/v201-station.js';

export type Tx = {
  eventType: 'Started' | 'Updated' | 'Ended';
  seqNo: number;
  triggerReason: string;
  offline?: boolean;
  evse?: { id: number; connectorId: number };
  idToken?: { idToken: string; type: string };
  transactionInfo: { transactionId: string; chargingState?: string; stoppedReason?: string; remoteStartId?: number };
  meterValue?: { sampledValue: { measurand?: string; context?: string; value: number }[] }[];
};

const txs = (s: V201Station): Tx[] => s.calls<Tx>('TransactionEvent');
const ended = (s: V201Station): boolean => txs(s).some((t) => t.eventType === 'Ended');
const brief = (t: Tx): string => `${t.eventType}:${t.triggerReason}`;

function booted(variables: Record<string, string> = {}): Promise<V201Station> {
  return bootedV201Station({ variables });
}

function assertGapless(list: Tx[]): void {
  assert.deepEqual(
    list.map((t) => t.seqNo),
    list.map((_, i) => i),
    'seqNo starts at 0 and has no gaps',
  );
  assert.equal(new Set(list.map((t) => t.transactionInfo.transactionId)).size, 1);
}

test('TC_E_03_CS / TC_E_01_CS E02 cable plugged in first (TxStartPoint PowerPathClosed): Authorize, Started with evse + idToken + Transaction.Begin, periodic Updated, Ended(EVDisconnected) with Transaction.End', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    await s.run(1000);
    s.sim.tap('04A1B2C3');
    await s.run(1000);
    s.sim.evReady(1);
    await s.run(120_000);
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assertGapless(list);
    assert.deepEqual(s.actions().slice(0, 4), ['BootNotification', 'StatusNotification', 'StatusNotification', 'Authorize']);
    assert.equal(list[0]!.eventType, 'Started');
    assert.deepEqual(list[0]!.evse, { id: 1, connectorId: 1 });
    assert.deepEqual(list[0]!.idToken, { idToken: '04A1B2C3', type: 'ISO14443' });
    assert.equal(list[0]!.meterValue?.[0]?.sampledValue[0]?.context, 'Transaction.Begin');
    assert.ok(list.slice(1).every((t) => t.evse === undefined && t.idToken === undefined), 'evse and idToken only once');
    assert.ok(list.some((t) => t.transactionInfo.chargingState === 'Charging'));
    assert.ok(list.filter((t) => t.triggerReason === 'MeterValuePeriodic').length >= 2, 'TxUpdatedInterval 60 s');
    const last = list.at(-1)!;
    assert.equal(brief(last), 'Ended:EVCommunicationLost', 'TC_E_14_CS: an unplug is EVCommunicationLost (EVDeparted is the parking bay)');
    assert.equal(last.transactionInfo.stoppedReason, 'EVDisconnected');
    const end = last.meterValue?.[0]?.sampledValue[0];
    assert.equal(end?.context, 'Transaction.End');
    assert.ok((end?.value ?? 0) > 500, 'energy was delivered');
    // Status: Available → Occupied (plug) → Available (unplug)
    assert.deepEqual(
      s.calls<{ connectorStatus: string }>('StatusNotification').map((x) => x.connectorStatus),
      ['Available', 'Occupied', 'Available'],
    );
  } finally {
    await s.close();
  }
});

test('TC_E_09_CS E02 with TxStartPoint EVConnected: Started(CablePluggedIn) without idToken, then Updated(Authorized) carrying the idToken', async () => {
  const s = await booted({ 'TxCtrlr.TxStartPoint': 'EVConnected' });
  try {
    s.sim.plug(1);
    await s.until('Started', () => txs(s).length === 1);
    s.sim.tap('04A1B2C3');
    await s.until('Authorized', () => txs(s).some((t) => t.triggerReason === 'Authorized'));
    const list = txs(s);
    assert.equal(brief(list[0]!), 'Started:CablePluggedIn');
    assert.equal(list[0]!.idToken, undefined);
    assert.equal(list[0]!.transactionInfo.chargingState, 'EVConnected');
    const auth = list.find((t) => t.triggerReason === 'Authorized')!;
    assert.equal(auth.eventType, 'Updated');
    assert.deepEqual(auth.idToken, { idToken: '04A1B2C3', type: 'ISO14443' });
  } finally {
    await s.close();
  }
});

test('TC_E_04_CS / TC_E_10_CS / TC_E_15_CS E03 identification first (TxStartPoint Authorized): Started(Authorized) with idToken, then Updated(CablePluggedIn); E06 stop by the same token: Ended(StopAuthorized, Local)', async () => {
  const s = await booted({ 'TxCtrlr.TxStartPoint': 'Authorized' });
  try {
    s.sim.tap('04A1B2C3');
    await s.until('Started', () => txs(s).length === 1);
    s.sim.plug(1);
    await s.run(1000);
    s.sim.evReady(1);
    await s.run(10_000);
    s.sim.tap('04A1B2C3');
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assertGapless(list);
    assert.equal(brief(list[0]!), 'Started:Authorized');
    assert.deepEqual(list[0]!.idToken, { idToken: '04A1B2C3', type: 'ISO14443' });
    assert.ok(list.some((t) => brief(t) === 'Updated:CablePluggedIn'));
    const last = list.at(-1)!;
    assert.equal(last.triggerReason, 'StopAuthorized');
    assert.equal(last.transactionInfo.stoppedReason, 'Local');
  } finally {
    await s.close();
  }
});

test('TC_E_05_CS E03 EVConnectionTimeOut: authorized but no cable within TxCtrlr.EVConnectionTimeOut ends the transaction (EVConnectTimeout, Timeout)', async () => {
  const s = await booted({ 'TxCtrlr.TxStartPoint': 'Authorized', 'TxCtrlr.EVConnectionTimeOut': '30' });
  try {
    s.sim.tap('04A1B2C3');
    await s.until('Started', () => txs(s).length === 1);
    await s.run(29_000);
    assert.equal(ended(s), false);
    await s.run(2_000);
    await s.until('Ended', () => ended(s));
    const last = txs(s).at(-1)!;
    assert.equal(last.triggerReason, 'EVConnectTimeout');
    assert.equal(last.transactionInfo.stoppedReason, 'Timeout');
  } finally {
    await s.close();
  }
});

test('TC_E_40_CS E11/E12 connection loss during a transaction: events queue with offline=true and arrive in order with gapless seqNo after reconnect', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
    s.csms.setAccepting(false);
    await s.csms.disconnect('CP-V201', { force: true });
    await s.until('offline', () => !s.link.connected);
    const before = txs(s).length;
    await s.run(150_000); // two or more periodic samples while offline
    s.sim.unplug(1);
    await s.run(2000);
    assert.equal(txs(s).length, before, 'nothing reached the CSMS while offline');
    assert.ok(s.link.pendingCount() >= 3);
    s.csms.setAccepting(true);
    await s.until('Ended', () => ended(s), 2000);
    const list = txs(s);
    assertGapless(list);
    const late = list.slice(before);
    assert.ok(late.length >= 3);
    assert.ok(late.every((t) => t.offline === true), 'queued while offline → offline: true');
    assert.ok(list.slice(0, before).every((t) => t.offline === undefined));
    assert.equal(late.at(-1)!.eventType, 'Ended');
    // A reconnect is not a boot: no second BootNotification.
    assert.equal(s.calls('BootNotification').length, 1);
  } finally {
    await s.close();
  }
});

test('TC_E_28_CS / TC_E_30_CS / TC_E_32_CS / TC_E_34_CS E14 GetTransactionStatus: ongoing and queued messages', async () => {
  const s = await booted();
  try {
    await startCharging(s);
    const id = txs(s)[0]!.transactionInfo.transactionId;
    await s.run(1000);
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: id }), { ongoingIndicator: true, messagesInQueue: false });
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: 'no-such-tx' }), { ongoingIndicator: false, messagesInQueue: false });
    s.sim.unplug(1);
    await s.until('Ended', () => ended(s));
    await s.run(1000);
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: id }), { ongoingIndicator: false, messagesInQueue: false });
    assert.deepEqual(await s.call('GetTransactionStatus', {}), { messagesInQueue: false });
  } finally {
    await s.close();
  }
});

test('E: power cut mid-transaction — after the reboot the transaction is Ended with PowerLoss and its seqNo continues from SQLite', async () => {
  const s = await booted();
  try {
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Charging', () => txs(s).some((t) => t.transactionInfo.chargingState === 'Charging'));
    await s.run(1000);
    const before = txs(s).length;
    await s.restart();
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assertGapless(list);
    const last = list.at(-1)!;
    assert.equal(last.eventType, 'Ended');
    assert.equal(last.triggerReason, 'AbnormalCondition');
    assert.equal(last.transactionInfo.stoppedReason, 'PowerLoss');
    const end = last.meterValue?.[0]?.sampledValue.find((v) => v.context === 'Transaction.End');
    const recovered = s.station.findSession(last.transactionInfo.transactionId);
    assert.equal(recovered?.stoppedReason, 'PowerLoss');
    assert.equal(end?.value, recovered?.meterStopWh, 'the meter reading the station recovered is the Transaction.End value');
    assert.equal(list.length, before + 1);
    assert.equal(s.calls('BootNotification').length, 2);
    // B01.FR.08: nothing queued goes out before the new boot is accepted.
    const acts = s.actions();
    assert.ok(acts.lastIndexOf('BootNotification') < acts.lastIndexOf('TransactionEvent'));
  } finally {
    await s.close();
  }
});

test('E11.FR.07 a TransactionEvent sent but unanswered when the connection drops is sent again with offline=true', async () => {
  const s = await booted();
  try {
    let first = true;
    s.csms.setHandler('TransactionEvent', () => {
      if (first) {
        first = false;
        return new Promise(() => undefined); // never answered: the connection drops first
      }
      return {};
    });
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('Started sent', () => txs(s).length === 1);
    assert.equal(txs(s)[0]!.offline, undefined, 'first attempt went out online');
    await s.csms.disconnect('CP-V201', { force: true });
    await s.until('resent', () => txs(s).length >= 2, 2000);
    const again = txs(s)[1]!;
    assert.equal(again.eventType, 'Started');
    assert.equal(again.seqNo, 0);
    assert.equal(again.offline, true);
  } finally {
    await s.close();
  }
});

test('TC_E_31_CS E14.FR.04 messagesInQueue is per transaction: true while its events wait offline, false for another id', async () => {
  const s = await booted();
  try {
    await startCharging(s);
    const id = txs(s)[0]!.transactionInfo.transactionId;
    s.csms.setAccepting(false);
    await s.csms.disconnect('CP-V201', { force: true });
    await s.until('offline', () => !s.link.connected);
    s.sim.unplug(1);
    await s.run(2000);
    s.csms.setAccepting(true);
    // Ask as soon as the link is back, before the queue drained, by answering TransactionEvent slowly.
    let release: () => void = () => undefined;
    s.csms.setHandler('TransactionEvent', () => new Promise((r) => (release = () => r({}))));
    await s.until('online', () => s.link.connected, 2000);
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: id }), { ongoingIndicator: false, messagesInQueue: true });
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: 'other' }), { ongoingIndicator: false, messagesInQueue: false });
    s.csms.clearHandler('TransactionEvent');
    release();
    await s.until('drained', () => s.link.pendingCount() === 0, 2000);
    assert.deepEqual(await s.call('GetTransactionStatus', { transactionId: id }), { ongoingIndicator: false, messagesInQueue: false });
  } finally {
    await s.close();
  }
});

test('E: power cut while authorized and plugged but before the TxStartPoint (PowerPathClosed): after the reboot Started and Ended(PowerLoss) are sent', async () => {
  const s = await startV201Station({ ev: { readyOnPlug: false } });
  try {
    await s.until('boot', () => s.adapter.ctx.registration === 'Accepted');
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    await s.until('Authorize', () => s.calls('Authorize').length === 1);
    await s.run(2000);
    assert.equal(txs(s).length, 0, 'the EV never asked for energy: no transaction yet');
    await s.restart();
    await s.until('Ended', () => ended(s));
    const list = txs(s);
    assert.deepEqual(list.map((t) => t.eventType), ['Started', 'Ended']);
    assertGapless(list);
    assert.equal(list[1]!.transactionInfo.stoppedReason, 'PowerLoss');
    assert.deepEqual(list[0]!.idToken, { idToken: '04A1B2C3', type: 'ISO14443' });
  } finally {
    await s.close();
  }
});

test('TC_E_41_CS / TC_E_50_CS E13 a TransactionEvent the CSMS keeps refusing is tried MessageAttempts times, MessageAttemptInterval apart, then the next one goes (E13.FR.02-04)', async () => {
  const s = await booted({ 'OCPPCommCtrlr.MessageAttempts/TransactionEvent': '3', 'OCPPCommCtrlr.MessageAttemptInterval/TransactionEvent': '10' });
  try {
    s.csms.setHandler('TransactionEvent', (p) => {
      if ((p as { eventType: string }).eventType === 'Started') throw createRPCError('InternalError', 'refused');
      return {};
    });
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('first try', () => txs(s).length === 1);
    await s.run(5_000);
    assert.equal(txs(s).length, 1, 'not again before the interval');
    await s.until('three tries and the next event', () => txs(s).some((t) => t.eventType !== 'Started'), 2000);
    const list = txs(s);
    assert.deepEqual(list.slice(0, 3).map((t) => [t.eventType, t.seqNo]), [
      ['Started', 0],
      ['Started', 0],
      ['Started', 0],
    ]);
    assert.equal(list[3]!.seqNo, 1);
  } finally {
    await s.close();
  }
});

type MeterValue = { timestamp: string; sampledValue: { value: number; measurand?: string; context?: string }[] };
type TxEv = { eventType: string; timestamp: string; triggerReason: string; meterValue?: MeterValue[]; transactionInfo: { stoppedReason?: string } };
const registerOf = (mv: MeterValue): number | undefined => mv.sampledValue.find((v) => (v.measurand ?? 'Energy.Active.Import.Register') === 'Energy.Active.Import.Register')?.value;

test('issue 10 #7 E06 / E13: a transaction cut by a power loss ends (PowerLoss) at the last persisted activity time with an energy register never below the last one sent', async () => {
  const ref: { st?: V201Station } = {};
  const now = (): string => new Date(ref.st?.clock.now() ?? Date.UTC(2026, 0, 1, 8)).toISOString();
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 3600 }));
  csms.setHandler('Heartbeat', () => ({ currentTime: now() }));
  const s = await bootedV201Station({ csms });
  ref.st = s;
  try {
    await startCharging(s);
    await s.run(5 * 60_000 + 15_000);
    const updated = s.calls<TxEv>('TransactionEvent').filter((e) => e.eventType === 'Updated' && e.meterValue);
    const last = updated.flatMap((e) => e.meterValue!).filter((mv) => registerOf(mv) !== undefined).at(-1)!;
    assert.ok(registerOf(last)! > 0, 'energy flowed and was sent');
    const cutAt = s.clock.now();
    await s.restart();
    await s.until('Ended', () => s.calls<TxEv>('TransactionEvent').some((e) => e.eventType === 'Ended'));
    const ended = s.calls<TxEv>('TransactionEvent').find((e) => e.eventType === 'Ended')!;
    assert.equal(ended.transactionInfo.stoppedReason, 'PowerLoss');
    const t = Date.parse(ended.timestamp);
    assert.ok(t >= Date.parse(last.timestamp) && t <= cutAt - 10_000, `Ended at ${ended.timestamp}: the last activity (last sample ${last.timestamp}), not the restart ${new Date(cutAt).toISOString()}`);
    const endValue = ended.meterValue?.find((mv) => mv.sampledValue.some((v) => v.context === 'Transaction.End'));
    assert.ok(endValue, 'Transaction.End meter value');
    assert.equal(registerOf(endValue), registerOf(last), 'not 0 Wh from the restarted meter');
  } finally {
    await s.close();
    await csms.close();
  }
});
