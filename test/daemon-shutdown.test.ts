/**
 * The daemon's shutdown order on the whole station built by buildStation (as on SIGTERM): sessions end
 * with reason Local and are persisted, the contactors open, the StopTransaction reaches the CSMS
 * before the link closes, and the outputs are safe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { openDatabase } from '../src/store/db.js';
import { openSessions } from '../src/store/sessions.js';
import { startCsms } from './support/csms.js';
import { startTestStation, until } from './support/harness.js';
import { loggerOver, type Logger } from '../base/logger.js';

test('graceful stop (SIGTERM path): 1.6 §4.10 StopTransaction reason Local sent before the link closes, contactors open and logged as such, no open session in the DB', async () => {
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  const stateDir = mkdtempSync(join(tmpdir(), 'shutdown-'));
  const clock = new VirtualClock();
  const infos: { msg: string; meta?: Record<string, unknown> }[] = [];
  const log: Logger = loggerOver({ error: () => {}, warn: () => {}, info: (msg, meta) => void infos.push({ msg, meta }), debug: () => {} });
  try {
    const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: csms.url, clock, evses: 2, stateDir, log });
    const calls = (action: string) => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === action);
    await until(st, 'boot', () => calls('BootNotification').length === 1 && st.ocpp.link.connected);
    for (const evse of [1, 2]) {
      st.sim.plug(evse);
      await st.clock.advance(1000);
      st.sim.tap(`04A1B2C${evse}`);
      await until(st, `charging on EVSE ${evse}`, () => st.hal.evses[evse - 1]!.contactor.commanded);
    }
    await until(st, 'two StartTransactions', () => calls('StartTransaction').length === 2);
    assert.equal(st.station.sessions().length, 2);

    await st.stop();

    const stops = calls('StopTransaction').map((e) => e.payload as { reason?: string });
    assert.deepEqual(stops.map((s) => s.reason), ['Local', 'Local'], 'both StopTransactions were flushed before the link closed');
    for (const evse of st.hal.evses) assert.equal(evse.contactor.commanded, false, `EVSE ${evse.id} contactor open`);
    assert.ok(st.sim.status().evses.every((e) => !e.contactorClosed && e.pwmAmps === 0), JSON.stringify(st.sim.status()));
    // The journal's record of the relays at exit (the systemd test reads it after `systemctl stop`).
    const safe = infos.filter((e) => e.msg === 'outputs safe');
    assert.equal(safe.length, 1);
    assert.deepEqual(safe[0]!.meta, {
      contactors: [
        { evse: 1, commanded: 'open', feedback: false },
        { evse: 2, commanded: 'open', feedback: false },
      ],
    });

    const db = openDatabase(join(stateDir, 'station.db'));
    try {
      assert.deepEqual(openSessions(db), [], 'no session left running');
      const ended = db.prepare('SELECT data FROM sessions').all() as { data: string }[];
      assert.deepEqual(
        ended.map((r) => (JSON.parse(r.data) as { stoppedReason: string }).stoppedReason),
        ['Local', 'Local'],
      );
    } finally {
      db.close();
    }
    await st.stop(); // idempotent
  } finally {
    await csms.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('startTestStation: evses and configPatch apply, a bad patch names its pointer, its own state dir is removed on stop', async () => {
  const clock = new VirtualClock();
  await assert.rejects(
    startTestStation({ ocppVersion: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp', clock, configPatch: { ocpp: { securityProfile: 7 } } }),
    /config error: \/ocpp\/securityProfile: must be one of 0,1,2,3/,
  );
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: 'ws://127.0.0.1:9/ocpp', // nothing listens: the station runs offline
    clock,
    evses: 3,
    configPatch: { station: { identity: 'CP-H1' }, ocpp: { callTimeoutS: 5 } },
  });
  assert.deepEqual(st.station.evseIds, [1, 2, 3]);
  assert.equal(st.config.station.identity, 'CP-H1');
  assert.equal(st.config.ocpp.callTimeoutS, 5);
  assert.ok(existsSync(join(st.stateDir, 'station.db')));
  await st.stop();
  assert.equal(existsSync(st.stateDir), false);
});

test('a failing shutdown step does not skip the later ones: outputs safe and database closed, then stop() rejects naming it', async () => {
  const clock = new VirtualClock();
  const st = await startTestStation({ ocppVersion: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp', clock, evses: 2 });
  const ocppStop = st.ocpp.stop.bind(st.ocpp);
  st.ocpp.stop = () => Promise.reject(new Error('socket wedged'));
  let halClosed = false;
  const close = st.hal.close.bind(st.hal);
  (st.hal as { close: () => Promise<void> }).close = async () => {
    halClosed = true;
    await close();
  };
  await assert.rejects(st.stop(), /shutdown incomplete: stop the OCPP link failed/);
  assert.equal(halClosed, true, 'the outputs were made safe after the failed step');
  assert.equal(st.db.open, false, 'the database was closed');
  assert.ok(st.hal.evses.every((e) => !e.contactor.commanded));
  await ocppStop(); // release the link's socket
});

for (const [choice, offered, expected] of [
  ['2.0.1', ['ocpp2.0.1'], 'ocpp2.0.1'],
  ['auto', ['ocpp2.0.1', 'ocpp1.6'], 'ocpp2.0.1'],
  ['auto', ['ocpp1.6'], 'ocpp1.6'],
] as const) {
  test(`buildStation wires both adapters: version ${choice}, CSMS offers ${offered.join('+')} → boots on ${expected}`, async () => {
    const csms = await startCsms({ protocols: [...offered] });
    const clock = new VirtualClock();
    const st = await startTestStation({ ocppVersion: choice, csmsUrl: csms.url, clock });
    try {
      await until(st, 'BootNotification', () => csms.actions().includes('BootNotification'));
      assert.equal(csms.clients()[0]?.protocol, expected);
      assert.equal(st.ocpp.adapter()?.protocol, expected);
    } finally {
      await st.stop();
      await csms.close();
    }
  });
}
