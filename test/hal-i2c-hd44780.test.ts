import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../base/clock.js';
import { create, toLcdText, type I2cBusLike } from '../hal/i2c/hd44780.js';
import { quietLog } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

class FakeBus implements I2cBusLike {
  readonly bytes: [number, number][] = [];
  closed = false;
  async sendByte(address: number, byte: number): Promise<void> {
    this.bytes.push([address, byte]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The PCF8574 bytes for one byte sent to the HD44780: two nibbles, each with E high then low. */
function expectByte(b: number, rs: 0 | 1, bl = 0x08): number[] {
  const out: number[] = [];
  for (const n of [b >> 4, b & 0x0f]) {
    const d = (n << 4) | rs | bl;
    out.push(d | 0x04, d);
  }
  return out;
}

async function open(options: Record<string, unknown>) {
  const clock = new VirtualClock();
  const bus = new FakeBus();
  const opening = create(options, driverContext({ clock, log: quietLog, part: 'display', seams: { i2c: async () => bus } }));
  await clock.advance(100); // the power-on waits run on the clock
  return { lcd: await opening, bus, clock };
}

describe('HD44780 behind a PCF8574 backpack', () => {
  test('4-bit initialisation by instruction: 3, 3, 3, 2, then function set, off, clear, entry mode, on', async () => {
    const { bus } = await open({ address: 0x27, cols: 16, rows: 2 });
    const nib = (n: number) => [(n << 4) | 0x08 | 0x04, (n << 4) | 0x08];
    assert.deepEqual(
      bus.bytes.map(([, b]) => b),
      [...nib(3), ...nib(3), ...nib(3), ...nib(2), ...expectByte(0x28, 0), ...expectByte(0x08, 0), ...expectByte(0x01, 0), ...expectByte(0x06, 0), ...expectByte(0x0c, 0)],
    );
    assert.ok(bus.bytes.every(([a]) => a === 0x27));
  });

  test('init waits for the controller (50 ms after power-on) on the clock', async () => {
    const clock = new VirtualClock();
    const bus = new FakeBus();
    const opening = create({}, driverContext({ clock, log: quietLog, part: 'display', seams: { i2c: async () => bus } }));
    await clock.advance(49);
    assert.equal(bus.bytes.length, 0);
    await clock.advance(60);
    await opening;
    assert.ok(bus.bytes.length > 0);
  });

  test('show(): set DDRAM address per row (0x80, 0xC0), data with RS, padded to the width; unchanged rows are skipped', async () => {
    const { lcd, bus } = await open({ cols: 16, rows: 2 });
    bus.bytes.length = 0;
    await lcd.show(['Hi', 'EUR 0.35/kWh']);
    const row0 = [...expectByte(0x80, 0), ...[...'Hi'.padEnd(16)].flatMap((c) => expectByte(c.charCodeAt(0), 1))];
    const row1 = [...expectByte(0xc0, 0), ...[...'EUR 0.35/kWh'.padEnd(16)].flatMap((c) => expectByte(c.charCodeAt(0), 1))];
    assert.deepEqual(bus.bytes.map(([, b]) => b), [...row0, ...row1]);
    bus.bytes.length = 0;
    await lcd.show(['Hi', 'Charging']);
    assert.deepEqual(bus.bytes.slice(0, 4).map(([, b]) => b), expectByte(0xc0, 0), 'only the second row is rewritten');
  });

  test('20x4 row addresses 0x00, 0x40, 0x14, 0x54; backlight bit off when configured', async () => {
    const { lcd, bus } = await open({ cols: 20, rows: 4, backlight: false });
    bus.bytes.length = 0;
    await lcd.show(['a', 'b', 'c', 'd']);
    const setAddr = bus.bytes.map(([, b]) => b).filter((_, i) => i % (4 + 20 * 4) === 0);
    assert.deepEqual(setAddr.slice(0, 4), [0x80, 0xc0, 0x94, 0xd4].map((x) => (x & 0xf0) | 0x04));
    assert.ok(bus.bytes.every(([, b]) => (b & 0x08) === 0));
  });

  test('text outside the LCD character set is replaced; close() turns the backlight off and closes the bus', async () => {
    const { lcd, bus } = await open({});
    await lcd.close();
    assert.deepEqual(bus.bytes.at(-1), [0x27, 0]);
    assert.ok(bus.closed);
  });
});

describe('HD44780 text: ROM A00, fitting and paging', () => {
  const cells = (s: string) => [...s].map((c) => c.charCodeAt(0));
  const rowBytes = (addr: number, codes: number[]) => [...expectByte(0x80 | addr, 0), ...codes.flatMap((c) => expectByte(c, 1))];

  test('exact bytes for a known 16x2 screen: ° and ä from the ROM, € spelled EUR, \\ and ~ never sent as ¥ and →', async () => {
    const { lcd, bus } = await open({ cols: 16, rows: 2 });
    bus.bytes.length = 0;
    await lcd.show(['Käse 20°C', '€1 a\\b~c']);
    const row0 = [...cells('K'), 0xe1, ...cells('se 20'), 0xdf, ...cells('C'), ...cells(' '.repeat(7))];
    const row1 = cells('EUR1 a/b-c'.padEnd(16));
    assert.deepEqual(bus.bytes.map(([, b]) => b), [...rowBytes(0x00, row0), ...rowBytes(0x40, row1)]);
  });

  test('characters the ROM lacks become ? (never a code from its katakana half); accents are stripped', () => {
    assert.equal(toLcdText('Café €5', 10), 'Cafe EUR5 ');
    assert.equal(toLcdText('日本 Ж ✓', 8), '?? ? ?  ');
    for (const ch of toLcdText('Ωπ€αЖ日\u0007', 12)) {
      const c = ch.charCodeAt(0);
      assert.ok((c >= 0x20 && c <= 0x7d && c !== 0x5c) || [0xf4, 0xf7, 0xe0].includes(c), `code 0x${c.toString(16)}`);
    }
  });

  test('a message longer than the display is word-wrapped and paged every 3 s on the clock', async () => {
    const { lcd, bus, clock } = await open({ cols: 16, rows: 2 });
    await lcd.show(['Welcome to the station of the city of Springfield']);
    const screen = () => {
      // replay the data writes into a 2x16 DDRAM model
      const ram = new Map<number, number>();
      let addr = 0;
      const b = bus.bytes.map(([, x]) => x).filter((x) => (x & 0x04) !== 0);
      for (let i = 0; i + 1 < b.length; i += 2) {
        const byte = (b[i]! & 0xf0) | (b[i + 1]! >> 4);
        if ((b[i]! & 0x01) === 0) {
          if (byte & 0x80) addr = byte & 0x7f;
        } else ram.set(addr++, byte);
      }
      const row = (start: number) => String.fromCharCode(...Array.from({ length: 16 }, (_, i) => ram.get(start + i) ?? 0x20));
      return [row(0x00), row(0x40)];
    };
    assert.deepEqual(screen(), ['Welcome to the  ', 'station of the  ']);
    await clock.advance(3000);
    assert.deepEqual(screen(), ['city of         ', 'Springfield     ']);
    await clock.advance(3000);
    assert.deepEqual(screen(), ['Welcome to the  ', 'station of the  ']);
    await lcd.close();
  });
});
