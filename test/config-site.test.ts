/**
 * The `site` section of the config (the local site limit): defaults filled in only when it is there, and
 * every bad value named by its JSON pointer, as the other sections are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { ConfigError, configFromObject } from '../src/config/load.js';
import { formatProblem } from '../src/config/validate.js';
import { startTestStation } from './support/harness.js';

const minimal = { station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9000/ocpp' } };

function problems(raw: unknown): string[] {
  try {
    configFromObject(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems.map(formatProblem);
  }
  assert.fail('config was accepted');
}

test('config site: absent means no site limit; present, its defaults fill what the file leaves out', () => {
  assert.equal(configFromObject(minimal).site, undefined);
  const c = configFromObject({ ...minimal, site: { gridLimitA: 63, otherLoadMeter: { driver: 'modbus', model: 'sdm630', tcp: { host: '192.0.2.10' }, unit: 2 } } });
  assert.deepEqual(c.site, {
    gridLimitA: 63,
    otherLoadMeter: { driver: 'modbus', model: 'sdm630', tcp: { host: '192.0.2.10' }, unit: 2 },
    intervalS: 5,
    increaseDelayS: 30,
    meterFaultAvailableA: 0,
    minCurrentA: 6,
    evseMinCurrentA: {},
  });
});

test('config site errors name the field: missing or bad grid limit, a minimum below IEC 61851 6 A, unknown keys, a meter without driver, a fallback above the limit', () => {
  let got = problems({ ...minimal, site: { intervalS: 0 } });
  assert.ok(got.includes('config error: /site/gridLimitA: is required'), got.join('\n'));
  assert.ok(got.includes('config error: /site/intervalS: must be >= 1'), got.join('\n'));
  got = problems({ ...minimal, site: { gridLimitA: -5, minCurrentA: 4, gridlimit: 3, otherLoadMeter: { model: 'sdm630' }, evseMinCurrentA: { '1': 5, first: 8 } } });
  assert.ok(got.includes('config error: /site/gridLimitA: must be > 0'), got.join('\n'));
  assert.ok(got.includes('config error: /site/minCurrentA: must be >= 6'), got.join('\n'));
  assert.ok(got.includes('config error: /site/gridlimit: unknown property "gridlimit"'), got.join('\n'));
  assert.ok(got.includes('config error: /site/otherLoadMeter/driver: is required'), got.join('\n'));
  assert.ok(got.includes('config error: /site/evseMinCurrentA/1: must be >= 6'), got.join('\n'));
  assert.ok(got.some((l) => l.startsWith('config error: /site/evseMinCurrentA')), got.join('\n'));
  got = problems({ ...minimal, site: { gridLimitA: 25, meterFaultAvailableA: 32 } });
  assert.deepEqual(got, ['config error: /site/meterFaultAvailableA: must be <= gridLimitA (25)']);
  got = problems({ ...minimal, site: { gridLimitA: '25' } });
  assert.deepEqual(got, ['config error: /site/gridLimitA: must be number']);
});

test('config site: a minimum for an EVSE the board does not have, and a meter driver that does not exist, stop the start with the field named', async () => {
  const start = (site: Record<string, unknown>) =>
    startTestStation({ ocppVersion: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp', clock: new VirtualClock(), evses: 2, configPatch: { site: { gridLimitA: 40, ...site } } });
  await assert.rejects(start({ evseMinCurrentA: { '3': 8 } }), /\/site\/evseMinCurrentA\/3: board "sim" has no EVSE 3/);
  await assert.rejects(start({ otherLoadMeter: { driver: 'p1' } }), /site\.otherLoadMeter: unknown meter driver "p1" \(known meter drivers: sim, modbus\)/);
  await assert.rejects(start({ otherLoadMeter: { driver: 'modbus', model: 'sdm630' } }), /site\.otherLoadMeter: driver "modbus" failed: .*give exactly one of "tcp"/);
});
