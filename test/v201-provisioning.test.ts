/**
 * B: provisioning of the 2.0.1 adapter end to end (real link, strict CSMS speaking ocpp2.0.1, simulated
 * board on a virtual clock): boot states, heartbeat, device model, reports, network profiles, reset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCsms } from './support/csms.js';
import { closedPort } from './support/ocpp-link.js';
import { bootedV201Station, startCharging, IDENTITY, startV201Station, type V201Station } from './support/v201-station.js';

const iso = (): string => new Date().toISOString();

function booted(variables: Record<string, string> = {}): Promise<V201Station> {
  return bootedV201Station({ variables });
}

const rpcCode = (code: string) => (e: unknown) => (e as { rpcErrorCode?: string }).rpcErrorCode === code;

test('TC_B_01_CS B01 cold boot: BootNotification(PowerUp) first, StatusNotification per connector after Accepted (B01.FR.05), Heartbeat at the interval given (B01.FR.04)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('BootNotification', () => ({ status: 'Accepted', currentTime: iso(), interval: 120 }));
  const s = await startV201Station({ csms, evses: 2 });
  try {
    await s.until('statuses', () => s.calls('StatusNotification').length === 2);
    assert.deepEqual(s.actions(), ['BootNotification', 'StatusNotification', 'StatusNotification']);
    assert.deepEqual(s.calls('BootNotification')[0], {
      reason: 'PowerUp',
      chargingStation: { model: 'SimBoard', vendorName: 'OpenStation', serialNumber: 'SN-0201', firmwareVersion: '0.1.0' },
    });
    assert.deepEqual(
      s.calls<{ evseId: number; connectorId: number; connectorStatus: string }>('StatusNotification').map((x) => [x.evseId, x.connectorId, x.connectorStatus]),
      [
        [1, 1, 'Available'],
        [2, 1, 'Available'],
      ],
    );
    await s.run(115_000);
    assert.equal(s.calls('Heartbeat').length, 0, 'no heartbeat before the interval');
    await s.run(10_000);
    assert.equal(s.calls('Heartbeat').length, 1, 'heartbeat at the 120 s the CSMS gave');
    assert.deepEqual(await s.call('GetVariables', { getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }] }), {
      getVariableResult: [{ attributeStatus: 'Accepted', attributeType: 'Actual', attributeValue: '120', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }],
    });
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_B_02_CS B02 Pending: only BootNotification until Accepted (B02.FR.02), retry after the interval (B02.FR.08), GetVariables answered (B02.FR.01), RequestStartTransaction Rejected (B02.FR.05), a triggered report may be sent', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  let status = 'Pending';
  csms.setHandler('BootNotification', () => ({ status, currentTime: iso(), interval: 30 }));
  const s = await startV201Station({ csms });
  try {
    await s.until('pending', () => s.adapter.ctx.registration === 'Pending');
    s.sim.plug(1);
    await s.run(20_000);
    assert.deepEqual(s.actions(), ['BootNotification']);
    const got = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'TxCtrlr' }, variable: { name: 'TxStartPoint' } }],
    });
    assert.equal(got.getVariableResult[0]!.attributeValue, 'PowerPathClosed');
    assert.deepEqual(await s.call('RequestStartTransaction', { remoteStartId: 1, idToken: { idToken: 'X', type: 'Central' } }), { status: 'Rejected' });
    assert.deepEqual(await s.call('GetBaseReport', { requestId: 7, reportBase: 'SummaryInventory' }), { status: 'Accepted' });
    await s.until('report', () => s.calls('NotifyReport').length === 1);
    await s.run(9_000);
    assert.deepEqual(s.actions(), ['BootNotification', 'NotifyReport']);
    status = 'Accepted';
    await s.run(2_000);
    await s.until('statuses', () => s.calls('StatusNotification').length === 1);
    assert.deepEqual(s.actions().slice(0, 4), ['BootNotification', 'NotifyReport', 'BootNotification', 'StatusNotification']);
    assert.equal(s.calls<{ connectorStatus: string }>('StatusNotification')[0]!.connectorStatus, 'Occupied');
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_B_03_CS / TC_B_30_CS B03 Rejected: nothing but the next BootNotification after the interval (B03.FR.02, B03.FR.06); CSMS calls get CALLERROR SecurityError (B03.FR.08)', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  csms.setHandler('BootNotification', () => ({ status: 'Rejected', currentTime: iso(), interval: 600 }));
  const s = await startV201Station({ csms });
  try {
    await s.until('rejected', () => s.adapter.ctx.registration === 'Rejected');
    s.sim.plug(1);
    await s.run(590_000);
    assert.deepEqual(s.actions(), ['BootNotification']);
    await assert.rejects(
      s.call('GetVariables', { getVariableData: [{ component: { name: 'TxCtrlr' }, variable: { name: 'TxStartPoint' } }] }),
      rpcCode('SecurityError'),
    );
    await s.run(11_000);
    assert.deepEqual(s.actions(), ['BootNotification', 'BootNotification']);
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_B_09_CS / TC_B_10_CS / TC_B_35_CS / TC_B_36_CS / TC_B_37_CS / TC_B_39_CS B05 SetVariables: Accepted, Rejected (ReadOnly, bad format, out of range, not in valuesList), UnknownComponent, UnknownVariable, NotSupportedAttributeType, RebootRequired; attributeType Actual when absent (B05.FR.12); values persist', async () => {
  const s = await booted();
  try {
    const set = (component: object, variable: object, attributeValue: string, attributeType?: string) => ({
      component,
      variable,
      attributeValue,
      ...(attributeType ? { attributeType } : {}),
    });
    const res = await s.call<{ setVariableResult: { attributeStatus: string; attributeType: string }[] }>('SetVariables', {
      setVariableData: [
        set({ name: 'OCPPCommCtrlr' }, { name: 'HeartbeatInterval' }, '60'),
        set({ name: 'ChargingStation' }, { name: 'Model' }, 'X'),
        set({ name: 'OCPPCommCtrlr' }, { name: 'WebSocketPingInterval' }, 'ten'),
        set({ name: 'TxCtrlr' }, { name: 'EVConnectionTimeOut' }, '0'),
        set({ name: 'TxCtrlr' }, { name: 'TxStartPoint' }, 'EVConnected,Flying'),
        set({ name: 'NoSuchCtrlr' }, { name: 'Enabled' }, 'true'),
        set({ name: 'TxCtrlr' }, { name: 'NoSuchVariable' }, '1'),
        set({ name: 'TxCtrlr' }, { name: 'EVConnectionTimeOut' }, '10', 'MaxSet'),
        set({ name: 'OCPPCommCtrlr' }, { name: 'NetworkConfigurationPriority' }, '1,0'),
        set({ name: 'TxCtrlr' }, { name: 'TxStartPoint' }, 'EVConnected,Authorized', 'Actual'),
        set({ name: 'EVSE', evse: { id: 9 } }, { name: 'Power' }, '1'),
      ],
    });
    assert.deepEqual(
      res.setVariableResult.map((r) => [r.attributeStatus, r.attributeType]),
      [
        ['Accepted', 'Actual'],
        ['Rejected', 'Actual'],
        ['Rejected', 'Actual'],
        ['Rejected', 'Actual'],
        ['Rejected', 'Actual'],
        ['UnknownComponent', 'Actual'],
        ['UnknownVariable', 'Actual'],
        ['NotSupportedAttributeType', 'MaxSet'],
        ['RebootRequired', 'Actual'],
        ['Accepted', 'Actual'],
        ['UnknownComponent', 'Actual'],
      ],
    );
    // live: the heartbeat follows the new interval at once
    const n = s.calls('Heartbeat').length;
    await s.run(61_000);
    assert.equal(s.calls('Heartbeat').length, n + 1);
    // persisted: survives a restart, while config seeds do not override it
    await s.restart();
    await s.until('boot', () => s.calls('BootNotification').length === 2 && s.adapter.ctx.registration === 'Accepted');
    const got = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'TxCtrlr' }, variable: { name: 'TxStartPoint' } }],
    });
    assert.equal(got.getVariableResult[0]!.attributeValue, 'EVConnected,Authorized');
  } finally {
    await s.close();
  }
});

test('TC_B_06_CS / TC_B_07_CS / TC_B_32_CS / TC_B_33_CS / TC_B_34_CS B06 GetVariables: every status, WriteOnly Rejected (B06.FR.09), MaxSet attribute, per-EVSE instance, no value on errors (B06.FR.06/07/08)', async () => {
  const s = await booted();
  try {
    const res = await s.call<{ getVariableResult: Record<string, unknown>[] }>('GetVariables', {
      getVariableData: [
        { component: { name: 'AuthCtrlr' }, variable: { name: 'AuthorizeRemoteStart' } },
        { component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } },
        { component: { name: 'Nope' }, variable: { name: 'Enabled' } },
        { component: { name: 'AuthCtrlr' }, variable: { name: 'Nope' } },
        { component: { name: 'AuthCtrlr' }, variable: { name: 'AuthorizeRemoteStart' }, attributeType: 'Target' },
        { component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' }, attributeType: 'MaxSet' },
        { component: { name: 'Connector', evse: { id: 1, connectorId: 1 } }, variable: { name: 'AvailabilityState' } },
        { component: { name: 'DeviceDataCtrlr' }, variable: { name: 'ItemsPerMessage', instance: 'GetVariables' } },
        { component: { name: 'SmartChargingCtrlr' }, variable: { name: 'Available' } },
      ],
    });
    assert.deepEqual(
      res.getVariableResult.map((r) => [r.attributeStatus, r.attributeValue]),
      [
        ['Accepted', 'false'],
        ['Rejected', undefined],
        ['UnknownComponent', undefined],
        ['UnknownVariable', undefined],
        ['NotSupportedAttributeType', undefined],
        ['Accepted', '22080'],
        ['Accepted', 'Available'],
        ['Accepted', '50'],
        ['Accepted', 'true'],
      ],
    );
    assert.deepEqual(res.getVariableResult[7]!.variable, { name: 'ItemsPerMessage', instance: 'GetVariables' });
  } finally {
    await s.close();
  }
});

test('B06.FR.16 more GetVariableData than ItemsPerMessageGetVariables → CALLERROR OccurrenceConstraintViolation; B05 likewise for SetVariables', async () => {
  const s = await booted();
  try {
    const item = { component: { name: 'AuthCtrlr' }, variable: { name: 'Enabled' } };
    await assert.rejects(s.call('GetVariables', { getVariableData: Array.from({ length: 51 }, () => item) }), rpcCode('OccurrenceConstraintViolation'));
    await assert.rejects(
      s.call('SetVariables', { setVariableData: Array.from({ length: 51 }, () => ({ ...item, attributeValue: 'true' })) }),
      rpcCode('OccurrenceConstraintViolation'),
    );
    const ok = await s.call<{ getVariableResult: unknown[] }>('GetVariables', { getVariableData: Array.from({ length: 50 }, () => item) });
    assert.equal(ok.getVariableResult.length, 50);
  } finally {
    await s.close();
  }
});

test('TC_B_12_CS / TC_B_13_CS B07 GetBaseReport: Accepted, then NotifyReport parts with the requestId, seqNo from 0 (B08.FR.14), tbc on all but the last, variableCharacteristics on each (B08.FR.12)', async () => {
  const s = await booted();
  try {
    assert.deepEqual(await s.call('GetBaseReport', { requestId: 42, reportBase: 'FullInventory' }), { status: 'Accepted' });
    type Part = { requestId: number; seqNo: number; tbc?: boolean; reportData: { component: { name: string }; variable: { name: string }; variableAttribute: { value?: string }[]; variableCharacteristics: { dataType: string } }[] };
    await s.until('last part', () => s.calls<Part>('NotifyReport').some((p) => !p.tbc));
    const parts = s.calls<Part>('NotifyReport');
    assert.ok(parts.length >= 3);
    assert.deepEqual(parts.map((p) => p.seqNo), parts.map((_, i) => i));
    assert.ok(parts.every((p) => p.requestId === 42));
    assert.deepEqual(parts.map((p) => p.tbc === true), parts.map((_, i) => i < parts.length - 1));
    const all = parts.flatMap((p) => p.reportData);
    const names = new Set(all.map((d) => d.component.name));
    for (const c of ['ChargingStation', 'EVSE', 'Connector', 'OCPPCommCtrlr', 'TxCtrlr', 'AuthCtrlr', 'AuthCacheCtrlr', 'LocalAuthListCtrlr', 'SampledDataCtrlr', 'AlignedDataCtrlr', 'ReservationCtrlr', 'SmartChargingCtrlr', 'DeviceDataCtrlr', 'ClockCtrlr', 'SecurityCtrlr']) {
      assert.ok(names.has(c), `reports ${c}`);
    }
    assert.ok(all.every((d) => d.variableCharacteristics.dataType));
    const pw = all.find((d) => d.variable.name === 'BasicAuthPassword')!;
    assert.equal(pw.variableAttribute[0]!.value, undefined, 'WriteOnly values are never reported');

    assert.deepEqual(await s.call('GetBaseReport', { requestId: 43, reportBase: 'ConfigurationInventory' }), { status: 'Accepted' });
    await s.until('config report', () => s.calls<Part>('NotifyReport').some((p) => p.requestId === 43 && !p.tbc));
    const cfg = s.calls<Part>('NotifyReport').filter((p) => p.requestId === 43).flatMap((p) => p.reportData);
    assert.ok(cfg.length > 10);
    assert.ok(!cfg.some((d) => d.variable.name === 'Model'), 'ConfigurationInventory has no ReadOnly variables');
  } finally {
    await s.close();
  }
});

test('TC_B_43_CS B09 SetNetworkProfile: valid profile stored (B09.FR.01); unknown slot (B09.FR.05), lower security profile (B09.FR.04), 1.6 / SOAP (B09.FR.02) Rejected', async () => {
  const s = await booted();
  try {
    const data = { ocppVersion: 'OCPP20', ocppTransport: 'JSON', ocppCsmsUrl: 'wss://csms.example.com/ocpp', messageTimeout: 30, securityProfile: 2, ocppInterface: 'Wired0' };
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 1, connectionData: data }), { status: 'Accepted' });
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 12, connectionData: data }), { status: 'Rejected' });
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 2, connectionData: { ...data, ocppVersion: 'OCPP16' } }), { status: 'Rejected' });
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 2, connectionData: { ...data, ocppTransport: 'SOAP' } }), { status: 'Rejected' });
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 2, connectionData: { ...data, securityProfile: 2, ocppCsmsUrl: 'ws://x/ocpp' } }), { status: 'Rejected' });
    assert.deepEqual([...s.adapter.ctx.dmRepo.networkProfiles().keys()], [1]);
    assert.equal(s.adapter.ctx.dmRepo.networkProfiles().get(1)!.ocppCsmsUrl, 'wss://csms.example.com/ocpp');
    // B09.FR.04 needs a stored security profile above the offered one: a station at profile 0 accepts 0..3.
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 3, connectionData: { ...data, securityProfile: 0, ocppCsmsUrl: 'ws://x/ocpp' } }), { status: 'Accepted' });
  } finally {
    await s.close();
  }
});

test('B11 Reset Immediate without a transaction: Accepted, the station asks for a restart, and the next BootNotification says RemoteReset', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    assert.deepEqual(await s.call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.run(5000);
    assert.equal(restarts.length, 1);
    await s.restart();
    await s.until('boot', () => s.calls('BootNotification').length === 2);
    assert.equal(s.calls<{ reason: string }>('BootNotification')[1]!.reason, 'RemoteReset');
    assert.deepEqual(await s.call('Reset', { type: 'Immediate', evseId: 5 }), { status: 'Rejected' });
  } finally {
    await s.close();
  }
});

test('TC_B_21_CS B12.FR.01 Reset OnIdle during a transaction → Scheduled; the transaction ends normally before the reset (B12.FR.03)', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    await startCharging(s);
    assert.deepEqual(await s.call('Reset', { type: 'OnIdle' }), { status: 'Scheduled' });
    await s.run(5000);
    assert.equal(restarts.length, 0, 'no restart while the transaction runs');
    s.sim.unplug(1);
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    await s.until('restart', () => restarts.length === 1);
    await s.restart();
    await s.until('boot', () => s.calls('BootNotification').length === 2);
    assert.equal(s.calls<{ reason: string }>('BootNotification')[1]!.reason, 'ScheduledReset');
  } finally {
    await s.close();
  }
});

test('TC_B_22_CS B12.FR.04 Reset Immediate during a transaction: Accepted and the TransactionEvent Ended goes out before the restart', async () => {
  const s = await booted();
  try {
    await startCharging(s);
    assert.deepEqual(await s.call('Reset', { type: 'Immediate' }), { status: 'Accepted' });
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    const end = s.calls<{ eventType: string; triggerReason: string; transactionInfo: { stoppedReason: string } }>('TransactionEvent').at(-1)!;
    assert.equal(end.triggerReason, 'ResetCommand');
    assert.equal(end.transactionInfo.stoppedReason, 'ImmediateReset');
  } finally {
    await s.close();
  }
});



test('TC_B_16_CS / TC_B_17_CS / TC_B_54_CS / TC_B_56_CS B08 GetReport: componentVariable narrows the report (whole component, one variable, per EVSE); componentCriteria Enabled; EmptyResultSet (B08.FR.15)', async () => {
  const s = await booted();
  try {
    type Part = { requestId: number; tbc?: boolean; reportData: { component: { name: string; evse?: { id: number } }; variable: { name: string; instance?: string } }[] };
    const report = async (requestId: number, req: object): Promise<Part['reportData'] | string> => {
      const r = await s.call<{ status: string }>('GetReport', { requestId, ...req });
      if (r.status !== 'Accepted') return r.status;
      await s.until(`report ${requestId}`, () => s.calls<Part>('NotifyReport').some((p) => p.requestId === requestId && !p.tbc));
      return s.calls<Part>('NotifyReport').filter((p) => p.requestId === requestId).flatMap((p) => p.reportData);
    };
    const tx = await report(1, { componentVariable: [{ component: { name: 'TxCtrlr' } }] });
    assert.ok(Array.isArray(tx));
    assert.ok(tx.length >= 5 && tx.every((d) => d.component.name === 'TxCtrlr'));
    const one = await report(2, { componentVariable: [{ component: { name: 'DeviceDataCtrlr' }, variable: { name: 'ItemsPerMessage' } }] });
    assert.deepEqual(
      (one as Part['reportData']).map((d) => d.variable.instance),
      ['GetReport', 'GetVariables', 'SetVariables'],
      'every instance when the variable instance is absent (B08.FR.21)',
    );
    const evse = await report(3, { componentVariable: [{ component: { name: 'EVSE', evse: { id: 1 } }, variable: { name: 'Power' } }] });
    assert.deepEqual((evse as Part['reportData']).map((d) => [d.component.name, d.component.evse?.id, d.variable.name]), [['EVSE', 1, 'Power']]);
    await s.call('SetVariables', { setVariableData: [{ component: { name: 'ReservationCtrlr' }, variable: { name: 'Enabled' }, attributeValue: 'false' }] });
    const enabled = (await report(4, { componentCriteria: ['Enabled'] })) as Part['reportData'];
    const names = new Set(enabled.map((d) => d.component.name));
    assert.ok(names.has('TxCtrlr'), 'components without Enabled qualify');
    assert.ok(names.has('SmartChargingCtrlr'), 'SmartChargingCtrlr.Enabled is true (the station has smart charging)');
    assert.ok(!names.has('ReservationCtrlr'), 'ReservationCtrlr.Enabled was set false');
    assert.equal(await report(5, { componentVariable: [{ component: { name: 'NoSuchCtrlr' } }] }), 'EmptyResultSet');
    assert.equal(await report(6, { componentCriteria: ['Problem'] }), 'EmptyResultSet');
  } finally {
    await s.close();
  }
});

test('TC_B_45_CS B09/B10 a stored profile first in NetworkConfigurationPriority (RebootRequired) is used from the next boot: the station moves to the new CSMS', async () => {
  const s = await booted();
  const next = await startCsms({ protocols: ['ocpp2.0.1'] });
  try {
    const data = { ocppVersion: 'OCPP20', ocppTransport: 'JSON', ocppCsmsUrl: next.url, messageTimeout: 20, securityProfile: 0, ocppInterface: 'Wired0' };
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 1, connectionData: data }), { status: 'Accepted' });
    const r = await s.call<{ setVariableResult: { attributeStatus: string }[] }>('SetVariables', {
      setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'NetworkConfigurationPriority' }, attributeValue: '1,0' }],
    });
    assert.equal(r.setVariableResult[0]!.attributeStatus, 'RebootRequired');
    await s.run(2000);
    assert.equal(next.actions().length, 0, 'nothing changes before the reboot');
    await s.restart();
    await s.until('boot at the new CSMS', () => next.actions(IDENTITY).includes('StatusNotification'));
    assert.deepEqual(next.actions(IDENTITY).slice(0, 2), ['BootNotification', 'StatusNotification']);
    assert.equal(s.calls('BootNotification').length, 1, 'the old CSMS saw no second boot');
    const got = await next.call<{ getVariableResult: { attributeValue: string }[] }>(IDENTITY, 'GetVariables', {
      getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'ActiveNetworkProfile' } }],
    });
    assert.equal(got.getVariableResult[0]!.attributeValue, '1');
  } finally {
    await s.close();
    await next.close();
  }
});

test('B02 + F06: TriggerMessage(BootNotification) while Pending is Accepted and the next BootNotification has reason Triggered; a reconnect after Accepted is not a boot and re-sends only changed statuses', async () => {
  const csms = await startCsms({ protocols: ['ocpp2.0.1'] });
  let status = 'Pending';
  csms.setHandler('BootNotification', () => ({ status, currentTime: iso(), interval: 300 }));
  const s = await startV201Station({ csms, evses: 2 });
  try {
    await s.until('pending', () => s.adapter.ctx.registration === 'Pending');
    status = 'Accepted';
    assert.deepEqual(await s.call('TriggerMessage', { requestedMessage: 'BootNotification' }), { status: 'Accepted' });
    await s.until('accepted', () => s.adapter.ctx.registration === 'Accepted');
    assert.deepEqual(s.calls<{ reason: string }>('BootNotification').map((b) => b.reason), ['PowerUp', 'Triggered']);
    await s.until('statuses', () => s.calls('StatusNotification').length === 2);
    s.csms.setAccepting(false);
    await s.csms.disconnect(IDENTITY, { force: true });
    await s.until('offline', () => !s.link.connected);
    s.sim.plug(2);
    await s.run(2000);
    s.csms.setAccepting(true);
    await s.until('status of EVSE 2', () => s.calls('StatusNotification').length === 3, 2000);
    await s.run(2000);
    assert.equal(s.calls('BootNotification').length, 2, 'no BootNotification on reconnect');
    assert.deepEqual(
      s.calls<{ evseId: number; connectorStatus: string }>('StatusNotification').slice(2).map((x) => [x.evseId, x.connectorStatus]),
      [[2, 'Occupied']],
    );
  } finally {
    await s.close();
    await csms.close();
  }
});

test('TC_B_46_CS B10 a stored profile that never connects: after NetworkProfileConnectionAttempts the station goes back to the configured CSMS', async () => {
  const s = await booted();
  try {
    const dead = `ws://127.0.0.1:${await closedPort()}/ocpp`;
    const data = { ocppVersion: 'OCPP20', ocppTransport: 'JSON', ocppCsmsUrl: dead, messageTimeout: 5, securityProfile: 0, ocppInterface: 'Wired0' };
    assert.deepEqual(await s.call('SetNetworkProfile', { configurationSlot: 2, connectionData: data }), { status: 'Accepted' });
    await s.call('SetVariables', {
      setVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'NetworkConfigurationPriority' }, attributeValue: '2,0' }],
    });
    await s.restart();
    await s.run(10_000);
    assert.equal(s.calls('BootNotification').length, 1, 'not connected through slot 2');
    await s.until('back at the configured CSMS', () => s.calls('BootNotification').length === 2, 1200);
    const got = await s.call<{ getVariableResult: { attributeValue: string }[] }>('GetVariables', {
      getVariableData: [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'ActiveNetworkProfile' } }],
    });
    assert.equal(got.getVariableResult[0]!.attributeValue, '0');
  } finally {
    await s.close();
  }
});

test('TC_B_27_CS B11.FR.08 / B12.FR.08 Reset of one EVSE during its transaction: Accepted, the transaction ends (ResetCommand), no station restart', async () => {
  const s = await booted();
  try {
    const restarts: string[] = [];
    s.station.on('restart-requested', (r) => restarts.push(r));
    await startCharging(s);
    assert.deepEqual(await s.call('Reset', { type: 'Immediate', evseId: 1 }), { status: 'Accepted' });
    await s.until('Ended', () => s.calls<{ eventType: string }>('TransactionEvent').some((t) => t.eventType === 'Ended'));
    const end = s.calls<{ triggerReason: string; transactionInfo: { stoppedReason: string } }>('TransactionEvent').at(-1)!;
    assert.equal(end.triggerReason, 'ResetCommand');
    assert.equal(end.transactionInfo.stoppedReason, 'ImmediateReset');
    await s.run(5000);
    assert.equal(restarts.length, 0);
  } finally {
    await s.close();
  }
});

test('TC_B_51_CS / TC_B_52_CS B04 offline longer than OfflineThreshold → status of every connector (B04.FR.01); shorter → only the changed ones (B04.FR.02)', async () => {
  const s = await startV201Station({ evses: 2, variables: { 'OCPPCommCtrlr.OfflineThreshold': '60' } });
  const offline = async (ms: number, during: () => void): Promise<void> => {
    s.csms.setAccepting(false);
    await s.csms.disconnect(IDENTITY, { force: true });
    await s.until('offline', () => !s.link.connected);
    during();
    await s.run(ms);
    s.csms.setAccepting(true);
    await s.until('online', () => s.link.connected, 2000);
    await s.run(2000);
  };
  const sn = () => s.calls<{ evseId: number; connectorStatus: string }>('StatusNotification').map((x) => [x.evseId, x.connectorStatus]);
  try {
    await s.until('statuses', () => s.calls('StatusNotification').length === 2);
    await offline(10_000, () => s.sim.plug(1));
    assert.deepEqual(sn().slice(2), [[1, 'Occupied']]);
    await offline(120_000, () => s.sim.unplug(1));
    assert.deepEqual(sn().slice(3), [
      [1, 'Available'],
      [2, 'Available'],
    ]);
  } finally {
    await s.close();
  }
});
