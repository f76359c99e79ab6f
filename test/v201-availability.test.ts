/**
 * G: availability with the 2.0.1 adapter end to end: StatusNotification mapping, ChangeAvailability for
 * station / EVSE / connector, Scheduled during a transaction, lock failure as NotifyEvent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootedV201Station, startCharging, type V201Station } from './support/v201-station.js';

const statuses = (s: V201Station): [number, string][] =>
  s.calls<{ evseId: number; connectorStatus: string }>('StatusNotification').map((x) => [x.evseId, x.connectorStatus]);

function booted(evses = 1): Promise<V201Station> {
  return bootedV201Station({ evses });
}

test('TC_G_03_CS / TC_G_04_CS / TC_G_05_CS / TC_G_06_CS G01/G03 ChangeAvailability of one EVSE and of the station: Unavailable / Available per connector; unknown EVSE Rejected', async () => {
  const s = await booted(2);
  try {
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 2 } }), { status: 'Accepted' });
    await s.until('unavailable', () => statuses(s).length === 3);
    assert.deepEqual(statuses(s).at(-1), [2, 'Unavailable']);
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 7 } }), { status: 'Rejected' });
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative' }), { status: 'Accepted' });
    await s.until('station unavailable', () => statuses(s).length === 4);
    assert.deepEqual(statuses(s).at(-1), [1, 'Unavailable']);
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Operative' }), { status: 'Accepted' });
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Operative', evse: { id: 2, connectorId: 1 } }), { status: 'Accepted' });
    await s.until('available again', () => statuses(s).filter(([, st]) => st === 'Available').length === 4);
    const av = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'EVSE', evse: { id: 2 } }, variable: { name: 'AvailabilityState' } }],
    });
    assert.equal(av.getVariableResult[0]!.attributeValue, 'Available');
  } finally {
    await s.close();
  }
});

test('TC_G_11_CS G03/G04 ChangeAvailability Inoperative during a transaction → Scheduled; Unavailable once the transaction ended', async () => {
  const s = await booted();
  try {
    await startCharging(s);
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 1 } }), { status: 'Scheduled' });
    await s.run(3000);
    assert.notEqual(statuses(s).at(-1)![1], 'Unavailable');
    s.sim.unplug(1);
    await s.until('unavailable', () => statuses(s).at(-1)![1] === 'Unavailable');
    // the 1.6-grained Preparing / Charging / Finishing are all Occupied in 2.0.1
    assert.deepEqual(
      statuses(s).map(([, st]) => st),
      ['Available', 'Occupied', 'Unavailable'],
    );
  } finally {
    await s.close();
  }
});

test('TC_G_20_CS G05 connector lock failure: NotifyEvent on ConnectorPlugRetentionLock Problem, and cleared again', async () => {
  const s = await booted();
  try {
    s.sim.fault(1, 'lock');
    s.sim.plug(1);
    s.sim.tap('04A1B2C3');
    s.sim.evReady(1);
    await s.until('NotifyEvent', () => s.calls('NotifyEvent').length >= 1, 1000);
    type Ev = { eventData: { component: { name: string; evse?: { id: number } }; variable: { name: string }; actualValue: string; cleared?: boolean; trigger: string }[] };
    const first = s.calls<Ev>('NotifyEvent')[0]!.eventData[0]!;
    assert.equal(first.component.name, 'ConnectorPlugRetentionLock');
    assert.deepEqual(first.component.evse, { id: 1, connectorId: 1 });
    assert.equal(first.variable.name, 'Problem');
    assert.equal(first.actualValue, 'true');
    assert.equal(first.trigger, 'Delta');
  } finally {
    await s.close();
  }
});

test('G: a ground fault (RCD) makes the connector Faulted with a NotifyEvent on EVSE Problem; EVSE.Power shows the live draw before it', async () => {
  const s = await booted();
  try {
    await startCharging(s);
    await s.run(61_000);
    const p = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' } }],
    });
    assert.ok(Number(p.getVariableResult[0]!.attributeValue) > 1000, `charging power ${p.getVariableResult[0]!.attributeValue} W`);
    s.sim.fault(1, 'rcd');
    await s.until('Faulted', () => statuses(s).at(-1)?.[1] === 'Faulted');
    await s.until('NotifyEvent', () => s.calls('NotifyEvent').length >= 1);
    type Ev = { eventData: { component: { name: string; evse?: { id: number } }; variable: { name: string }; actualValue: string; techCode?: string; transactionId?: string }[] };
    const ev = s.calls<Ev>('NotifyEvent')[0]!.eventData[0]!;
    assert.deepEqual([ev.component.name, ev.component.evse?.id, ev.variable.name, ev.actualValue], ['EVSE', 1, 'Problem', 'true']);
    assert.equal(ev.techCode, 'rcd-trip');
  } finally {
    await s.close();
  }
});

test('TC_G_18_CS / TC_B_23_CS an Inoperative EVSE stays Unavailable across a reboot (B01.FR.07, B11.FR.02)', async () => {
  const s = await booted(2);
  try {
    assert.deepEqual(await s.call('ChangeAvailability', { operationalStatus: 'Inoperative', evse: { id: 2 } }), { status: 'Accepted' });
    await s.until('unavailable', () => statuses(s).length === 3);
    assert.deepEqual(await s.call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.run(2000);
    await s.restart();
    await s.until('statuses after boot', () => statuses(s).length === 5);
    assert.deepEqual(statuses(s).slice(3), [
      [1, 'Available'],
      [2, 'Unavailable'],
    ]);
  } finally {
    await s.close();
  }
});
