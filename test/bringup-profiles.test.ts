import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadBoardProfile } from '../hal/profile.js';
import { findDriver, type PartKind } from '../hal/registry.js';
import { parseLinePilotOptions } from '../hal/serial/pilot-line.js';
import { parseRapiPilotOptions } from '../hal/serial/pilot-rapi.js';
import { parseRapiContactorOptions } from '../hal/serial/rapi-contactor.js';
import { parseGpioRelayOptions } from '../hal/gpio/relay.js';
import { parseGpioLockOptions } from '../hal/gpio/lock.js';
import { parseModbusMeterOptions } from '../hal/modbus/meter.js';
import { parseLineReaderOptions } from '../hal/serial/reader-line.js';
import type { PartSpec } from '../hal/profile.js';
import { repoRoot } from './support/paths.js';

const configDir = join(repoRoot(), 'config');

function opts(spec: PartSpec): Record<string, unknown> {
  const { driver: _driver, ...o } = spec;
  return o;
}

function assertRegistered(kind: PartKind, spec: PartSpec | undefined): void {
  assert.ok(spec);
  assert.doesNotThrow(() => findDriver(kind, spec.driver, kind));
}

test('rpi-relay-hat: every part names a registered driver and its options pass that driver’s checks', () => {
  const p = loadBoardProfile('rpi-relay-hat', configDir);
  const e = p.evses[0]!;
  for (const [k, s] of [['pilot', e.pilot], ['contactor', e.contactor], ['lock', e.lock], ['meter', e.meter], ['reader', p.reader]] as const) assertRegistered(k, s);
  assert.equal(parseLinePilotOptions(opts(e.pilot)).port, '/dev/ttyAMA0');
  const relay = parseGpioRelayOptions(opts(e.contactor));
  assert.equal(relay.output.activeLow, true);
  assert.ok(relay.feedback, 'contactor with a mirror contact');
  assert.ok(parseGpioLockOptions(opts(e.lock!)).unlockPin);
  const meter = parseModbusMeterOptions(opts(e.meter));
  assert.equal(meter.map.model, 'sdm630');
  assert.deepEqual([meter.target.kind, meter.target.kind === 'rtu' ? meter.target.path : '', meter.unit], ['rtu', '/dev/ttyUSB1', 1]);
  assert.equal(parseLineReaderOptions(opts(p.reader!)).port, '/dev/ttyUSB0');
});

test('openevse: pilot and contactor both over RAPI on the same port', () => {
  const p = loadBoardProfile('openevse', configDir);
  const e = p.evses[0]!;
  for (const [k, s] of [['pilot', e.pilot], ['contactor', e.contactor], ['meter', e.meter]] as const) assertRegistered(k, s);
  assert.equal(parseRapiPilotOptions(opts(e.pilot)).port, parseRapiContactorOptions(opts(e.contactor)).port);
  assert.equal(parseModbusMeterOptions(opts(e.meter)).map.model, 'sdm120');
});
