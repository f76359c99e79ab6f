import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import modbusSerial from 'modbus-serial';
import { VirtualClock } from '../base/clock.js';
import { create, type ModbusMeter } from '../hal/modbus/meter.js';
import type { HalFault } from '../hal/types.js';
import { hasSocat, NO_SOCAT, PtyPair, quietLog } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

function f32(v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
}

describe('Modbus RTU meter over a pty pair, modbus-serial ServerSerial as the SDM630', { skip: hasSocat() ? false : NO_SOCAT }, () => {
  const pair = new PtyPair();
  const clock = new VirtualClock();
  const regs = new Map<number, number>();
  let silent = false;
  let server: InstanceType<NonNullable<typeof modbusSerial.ServerSerial>>;
  let meter: ModbusMeter;
  const faults: HalFault[] = [];

  before(async () => {
    const put = (a: number, v: number) => f32(v).forEach((w, i) => regs.set(a + i, w));
    put(0, 229.5);
    put(6, 15.25);
    put(52, 3500);
    put(70, 49.98);
    put(72, 12.5);
    put(74, 0);
    await pair.start();
    const ServerSerial = modbusSerial.ServerSerial;
    assert.ok(ServerSerial, 'modbus-serial ships ServerSerial');
    server = new ServerSerial(
      {
        getMultipleInputRegisters: (addr: number, length: number) => {
          // ServerSerial answers a handler that fails with exception 4 (slave device failure).
          if (silent) throw new Error('measurement board failed');
          return Array.from({ length }, (_, i) => regs.get(addr + i) ?? 0);
        },
      },
      { path: pair.b, baudRate: 9600, unitID: 7 },
    );
    await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
    meter = await create(
      { model: 'sdm630', rtu: { path: pair.a, baudRate: 9600 }, unit: 7, timeoutMs: 300, retries: 0, failuresBeforeFault: 2, pollIntervalMs: 0 },
      driverContext({ clock, log: quietLog, part: 'meter' }),
    );
    meter.on('fault', (f) => faults.push(f));
  });

  after(async () => {
    await meter.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pair.close();
  });

  test('reads the SDM630 map over RTU (CRC framed by both ends) from unit 7', async () => {
    const r = await meter.read();
    assert.equal(r.energyImportWh, 12_500);
    assert.ok(Math.abs((r.voltageV.L1 ?? 0) - 229.5) < 1e-3);
    assert.equal(r.currentA.L1, 15.25);
    assert.equal(r.powerW, 3500);
    assert.ok(Math.abs((r.frequencyHz ?? 0) - 49.98) < 1e-3);
  });

  test('a meter answering with exceptions: after 2 failed reads meter-silent, then recovery', async () => {
    silent = true;
    await assert.rejects(meter.read(), /exception 4/);
    await assert.rejects(meter.read());
    assert.deepEqual(faults.map((f) => f.kind), ['meter-silent']);
    silent = false;
    const cleared = new Promise((resolve) => meter.once('fault-cleared', resolve));
    await meter.read();
    assert.equal(await cleared, 'meter-silent');
  });

  test('an RS-485 adapter that is missing raises port-lost (low) at the first failed read', async () => {
    const clock2 = new VirtualClock();
    const m = await create({ model: 'sdm630', rtu: { path: pair.dir + '/missing' }, unit: 7, retries: 0, failuresBeforeFault: 3, pollIntervalMs: 0 }, driverContext({ clock: clock2, log: quietLog, part: 'meter' }));
    const seen: HalFault[] = [];
    m.on('fault', (f) => seen.push(f));
    try {
      await assert.rejects(m.read(), /cannot open rtu:/);
      assert.deepEqual(seen.map((f) => [f.kind, f.severity]), [['port-lost', 'low']]);
    } finally {
      await m.close();
    }
  });
});
