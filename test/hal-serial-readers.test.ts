import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { create as createLine, normaliseUid, type LineReader } from '../hal/serial/reader-line.js';
import { create as createRdm, decodeFrame, type Rdm6300Reader } from '../hal/serial/reader-rdm6300.js';
import type { TokenRead } from '../hal/types.js';
import { hasSocat, NO_SOCAT, Peer, PtyPair, quietLog, until } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

/** An RDM6300 frame for 10 hex characters, with a correct checksum unless told otherwise. */
function rdmFrame(data: string, checksum?: string): Buffer {
  let x = 0;
  for (let i = 0; i < 10; i += 2) x ^= parseInt(data.slice(i, i + 2), 16);
  const cs = checksum ?? x.toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([Buffer.from([0x02]), Buffer.from(data + cs, 'latin1'), Buffer.from([0x03])]);
}

describe('card id normalisation', () => {
  test('separators stripped, hex upper-cased; junk is not an id', () => {
    assert.equal(normaliseUid('04:a2:1b:c3', 'hex'), '04A21BC3');
    assert.equal(normaliseUid(' 04-A2-1B-C3-5D-80-01\r', 'hex'), '04A21BC35D8001');
    assert.equal(normaliseUid('04 a2 1b c3', 'hex'), '04A21BC3');
    assert.equal(normaliseUid('hello', 'hex'), undefined);
    assert.equal(normaliseUid('04A', 'hex'), undefined);
    assert.equal(normaliseUid('pin-1234', 'text'), 'PIN1234');
  });

  test('RDM6300 frame: XOR of the 5 data bytes checked', () => {
    assert.equal(decodeFrame(rdmFrame('0F00A1B2C3')), '0F00A1B2C3');
    assert.equal(decodeFrame(rdmFrame('0F00A1B2C3', '00')), undefined);
    assert.equal(decodeFrame(Buffer.from('0F00A1B2C3')), undefined);
  });
});

describe('card readers on a pty pair', { skip: hasSocat() ? false : NO_SOCAT }, () => {
  const clock = new VirtualClock();
  const linePair = new PtyPair();
  const rdmPair = new PtyPair();
  let lineDev: Peer;
  let rdmDev: Peer;
  let line: LineReader;
  let rdm: Rdm6300Reader;
  const lineTokens: TokenRead[] = [];
  const rdmTokens: TokenRead[] = [];

  before(async () => {
    await linePair.start();
    await rdmPair.start();
    lineDev = await Peer.open(linePair.b);
    rdmDev = await Peer.open(rdmPair.b);
    line = await createLine({ port: linePair.a, holdMs: 2000 }, driverContext({ clock, log: quietLog, part: 'reader' }));
    rdm = await createRdm({ port: rdmPair.a, holdMs: 1500 }, driverContext({ clock, log: quietLog, part: 'reader' }));
    line.on('token', (t) => lineTokens.push(t));
    rdm.on('token', (t) => rdmTokens.push(t));
  });

  after(async () => {
    await line.close();
    await rdm.close();
    await lineDev.close();
    await rdmDev.close();
    await linePair.close();
    await rdmPair.close();
  });

  test('line reader: one normalised token per line, non-id lines ignored', async () => {
    await lineDev.write('04:a2:1b:c3\r\nREADER READY\r\n');
    await until(() => lineTokens.length === 1);
    assert.deepEqual(lineTokens[0], { id: '04A21BC3', kind: 'ISO14443' });
  });

  test('line reader: the same card held on the reader is reported once within holdMs', async () => {
    await lineDev.write('04A21BC3\n');
    await clock.advance(1000);
    await lineDev.write('04a21bc3\n');
    await lineDev.write('DEADBEEF\n');
    await until(() => lineTokens.length === 2);
    assert.equal(lineTokens[1]!.id, 'DEADBEEF');
    await clock.advance(2500);
    await lineDev.write('04A21BC3\n');
    await until(() => lineTokens.length === 3);
    assert.equal(lineTokens[2]!.id, '04A21BC3');
  });

  test('RDM6300: frames split across writes decode; a bad checksum is ignored; repeats suppressed', async () => {
    const f = rdmFrame('0F00A1B2C3');
    await rdmDev.write(Buffer.concat([Buffer.from([0x55]), f.subarray(0, 5)]));
    await rdmDev.write(Buffer.concat([f.subarray(5), f, f]));
    await rdmDev.write(rdmFrame('1200FFEE01', '00'));
    await rdmDev.write(rdmFrame('1200FFEE01'));
    await until(() => rdmTokens.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(rdmTokens, [
      { id: '0F00A1B2C3', kind: 'Local' },
      { id: '1200FFEE01', kind: 'Local' },
    ]);
  });

  test('a reader whose port vanishes raises port-lost (low) and clears it when back', async () => {
    const faults: string[] = [];
    line.on('fault', (f) => faults.push(`${f.kind}/${f.severity}`));
    line.on('fault-cleared', (k) => faults.push(`cleared ${k}`));
    await lineDev.close();
    await linePair.stop();
    await clock.advance(2000); // the device-node probe notices
    await until(() => faults.includes('port-lost/low'));
    await linePair.start();
    lineDev = await Peer.open(linePair.b);
    for (let i = 0; i < 20 && !faults.includes('cleared port-lost'); i++) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(faults.includes('cleared port-lost'));
    await clock.advance(5000);
    await lineDev.write('CAFE0001\n');
    await until(() => lineTokens.some((t) => t.id === 'CAFE0001'));
  });
});
