/**
 * `ocpp-station sim building-load | site-meter | external-limit | clear-external-limit` against a running
 * station (the daemon's wiring, the control socket in its state directory): what the commands change on
 * the simulated board and in the station's sharing, and how bad arguments are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { main, type CliIo } from '../src/control/sim-cli.js';
import { startTestStation, type TestStation } from './support/harness.js';

async function run(st: TestStation, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await main([...argv, '--state-dir', st.stateDir], io);
  // Let the station's meter read and sharing run on the virtual clock.
  await st.clock.advance(5000);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return { code, out, err };
}

test('sim building-load / site-meter drive the site meter, external-limit caps the EVSEs; status shows the site and the shares', async () => {
  const st = await startTestStation({
    ocppVersion: '1.6',
    csmsUrl: 'ws://127.0.0.1:9/ocpp',
    clock: new VirtualClock(),
    evses: 2,
    control: true,
    configPatch: { site: { gridLimitA: 32, otherLoadMeter: { driver: 'sim' }, increaseDelayS: 0 } },
  });
  try {
    st.sim.plug(1);
    assert.equal(await st.station.requestStart(1, { idToken: 'A1', type: 'ISO14443' }, { preAuthorized: true }), 'Accepted');
    let r = await run(st, ['building-load', '20']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^building-load: done\n/);
    assert.match(r.out, /building load 20 A per phase, site meter answering/);
    r = await run(st, ['status']);
    assert.match(r.out, /site: grid limit 32 A, other load 20 A \(meter ok\), EVSEs share 12 A: EVSE 1 12 A, EVSE 2 0 A/);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 12);

    r = await run(st, ['site-meter', 'silent']);
    assert.equal(r.code, 0, r.err);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 0, 'silent meter, fallback 0 A');
    r = await run(st, ['site-meter', 'ok']);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 12);

    r = await run(st, ['external-limit', '8', '--source', 'SO', '--grid-critical']);
    assert.equal(r.code, 0, r.err);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 8);
    assert.deepEqual(
      st.station.externalLimits.list().map((c) => [c.key, c.source, c.evseId, c.limitA, c.isGridCritical]),
      [
        ['site', 'EMS', 0, 12, false],
        ['external', 'SO', 0, 8, true],
      ],
    );
    r = await run(st, ['clear-external-limit']);
    assert.equal(r.code, 0, r.err);
    assert.equal(st.sim.status().evses[0]!.pwmAmps, 12);
    r = await run(st, ['clear-external-limit']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no external limit is set/);

    r = await run(st, ['building-load', 'lots']);
    assert.equal(r.code, 2);
    assert.match(r.err, /building-load needs amperes per phase/);
    r = await run(st, ['site-meter', 'broken']);
    assert.equal(r.code, 2);
    r = await run(st, ['external-limit', '10', '--source', 'CSO']);
    assert.equal(r.code, 1);
    assert.match(r.err, /"source" must be one of EMS, SO, Other/);
    r = await run(st, ['external-limit', '10', '--evse', '7']);
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown EVSE 7/);
  } finally {
    await st.stop();
  }
});
