import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import modbusSerial from 'modbus-serial';
import { VirtualClock } from '../base/clock.js';
import { create, type ModbusMeter } from '../hal/modbus/meter.js';
import { loadRegisterMap, planReads } from '../hal/modbus/register-map.js';
import type { HalFault, HalFaultKind } from '../hal/types.js';
import { freePort, quietLog } from './support/pty.js';
import { driverContext } from '../hal/registry.js';

/** 16-bit register images of a float32 / 32-bit / 64-bit value, high word first unless little. */
function words(value: number, type: 'float32' | 'int32' | 'uint64', order: 'big' | 'little' = 'big'): number[] {
  const b = Buffer.alloc(type === 'uint64' ? 8 : 4);
  if (type === 'float32') b.writeFloatBE(value);
  else if (type === 'int32') b.writeInt32BE(value);
  else b.writeBigUInt64BE(BigInt(value));
  const w: number[] = [];
  for (let i = 0; i < b.length; i += 2) w.push(b.readUInt16BE(i));
  return order === 'little' ? w.reverse() : w;
}

class FakeMeterServer {
  readonly input = new Map<number, number>();
  readonly holding = new Map<number, number>();
  failing = false;
  requests = 0;
  private server!: InstanceType<typeof modbusSerial.ServerTCP>;

  put(table: 'input' | 'holding', addr: number, ws: number[]): void {
    ws.forEach((w, i) => this[table].set(addr + i, w));
  }

  async start(port?: number): Promise<number> {
    port ??= await freePort();
    const regs = (table: Map<number, number>) => (addr: number, length: number) => {
      this.requests++;
      if (this.failing) throw Object.assign(new Error('slave device failure'), { modbusErrorCode: 4 });
      return Array.from({ length }, (_, i) => table.get(addr + i) ?? 0);
    };
    this.server = new modbusSerial.ServerTCP(
      { getMultipleInputRegisters: regs(this.input), getMultipleHoldingRegisters: regs(this.holding) },
      { host: '127.0.0.1', port, unitID: 1 },
    );
    await new Promise<void>((resolve, reject) => {
      this.server.on('initialized', () => resolve());
      this.server.on('serverError', (err) => reject(err ?? new Error('ServerTCP failed')));
    });
    return port;
  }

  async stop(): Promise<void> {
    for (const sock of this.server.socks.keys()) (sock as Socket).destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const near = (actual: number | undefined, expected: number, eps = 1e-3): void =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= eps * Math.max(1, Math.abs(expected)), `${actual} ≈ ${expected}`);

describe('register maps', () => {
  test('SDM630 registers are planned as one input-register read within the meter limit', () => {
    const blocks = planReads(loadRegisterMap('sdm630'));
    assert.deepEqual(blocks.map((b) => [b.function, b.start, b.count]), [['input', 0, 76]]);
  });

  test('ABB B23 energy (0x5000) and instantaneous values (0x5B00) are two holding-register reads', () => {
    const blocks = planReads(loadRegisterMap('abb-b23'));
    assert.deepEqual(blocks.map((b) => [b.function, b.start, b.count]), [['holding', 0x5000, 8], ['holding', 0x5b00, 45]]);
  });

  test('every shipped map loads (sdm120, sdm72)', () => {
    for (const m of ['sdm120', 'sdm72']) assert.ok(loadRegisterMap(m).registers.energyImportWh);
  });
});

describe('Modbus TCP meter against modbus-serial ServerTCP on 127.0.0.1', () => {
  const srv = new FakeMeterServer();
  const clock = new VirtualClock();
  let port: number;
  let meter: ModbusMeter;
  const faults: HalFault[] = [];
  const cleared: HalFaultKind[] = [];

  before(async () => {
    // SDM630: float32, high word first, input registers.
    const f = (addr: number, v: number) => srv.put('input', addr, words(v, 'float32'));
    f(0, 230.1);
    f(2, 231.2);
    f(4, 229.8);
    f(6, 10.5);
    f(8, 11);
    f(10, 9.75);
    f(52, 7360.5);
    f(70, 50.01);
    f(72, 1234.567);
    f(74, 0.5);
    port = await srv.start();
    meter = await create(
      { model: 'sdm630', tcp: { host: '127.0.0.1', port }, unit: 1, timeoutMs: 500, retries: 0, failuresBeforeFault: 3, pollIntervalMs: 0 },
      driverContext({ clock, log: quietLog, part: 'meter' }),
    );
    meter.on('fault', (x) => faults.push(x));
    meter.on('fault-cleared', (k) => cleared.push(k));
  });

  after(async () => {
    await meter.close();
    await srv.stop();
  });

  test('SDM630: energy in Wh, power, per-phase current and voltage, frequency', async () => {
    const r = await meter.read();
    near(r.energyImportWh, 1_234_567, 1e-6);
    near(r.energyExportWh, 500);
    near(r.powerW, 7360.5);
    near(r.currentA.L1, 10.5);
    near(r.currentA.L2, 11);
    near(r.currentA.L3, 9.75);
    near(r.voltageV.L1, 230.1);
    near(r.voltageV.L2, 231.2);
    near(r.voltageV.L3, 229.8);
    near(r.frequencyHz, 50.01);
    assert.equal(r.at, clock.now());
  });

  test('concurrent reads share one request', async () => {
    const before = srv.requests;
    await Promise.all([meter.read(), meter.read(), meter.read()]);
    assert.equal(srv.requests - before, 1);
  });

  test('meter-silent (PowerMeterFailure) after 3 consecutive failed reads, once; cleared by the next good read', async () => {
    srv.failing = true;
    await assert.rejects(meter.read());
    await assert.rejects(meter.read());
    assert.equal(faults.length, 0, 'not before the third failure');
    await assert.rejects(meter.read());
    await assert.rejects(meter.read());
    assert.deepEqual(faults.map((f) => [f.kind, f.severity]), [['meter-silent', 'low']]);
    srv.failing = false;
    const r = await meter.read();
    near(r.energyImportWh, 1_234_567, 1e-6);
    assert.deepEqual(cleared, ['meter-silent']);
  });

  test('a meter that goes away (server down) fails reads; when it is back the driver reconnects', async () => {
    await srv.stop();
    await assert.rejects(meter.read());
    await srv.start(port);
    const r = await meter.read();
    near(r.powerW, 7360.5);
  });
});

describe('word order and integer registers from a map', () => {
  const srv = new FakeMeterServer();
  const clock = new VirtualClock();
  let port: number;

  before(async () => {
    port = await srv.start();
  });
  after(() => srv.stop());

  test('generic map with little word order (low word first)', async () => {
    srv.put('input', 100, words(4321.25, 'float32', 'little'));
    srv.put('input', 102, words(-1500, 'int32', 'little'));
    const meter = await create(
      {
        registerMap: {
          model: 'generic-test',
          wordOrder: 'little',
          registers: {
            energyImportWh: { address: 100, type: 'float32', scale: 1000 },
            powerW: { address: 102, type: 'int32' },
          },
        },
        tcp: { host: '127.0.0.1', port },
        unit: 1,
        pollIntervalMs: 0,
      },
      driverContext({ clock, log: quietLog, part: 'meter' }),
    );
    try {
      const r = await meter.read();
      near(r.energyImportWh, 4_321_250);
      assert.equal(r.powerW, -1500);
      assert.deepEqual(r.currentA, {});
    } finally {
      await meter.close();
    }
  });

  test('ABB B23: uint64 energy in 0.01 kWh, int32 power in 0.01 W, uint16 frequency', async () => {
    srv.put('holding', 0x5000, words(1234567, 'uint64'));
    srv.put('holding', 0x5004, words(42, 'uint64'));
    srv.put('holding', 0x5b00, [0, 2301]);
    srv.put('holding', 0x5b0c, [0, 1050]);
    srv.put('holding', 0x5b14, words(-250075, 'int32'));
    srv.put('holding', 0x5b2c, [4999]);
    const meter = await create({ model: 'abb-b23', tcp: { host: '127.0.0.1', port }, unit: 1, pollIntervalMs: 0 }, driverContext({ clock, log: quietLog, part: 'meter' }));
    try {
      const r = await meter.read();
      near(r.energyImportWh, 12_345_670);
      near(r.energyExportWh, 420);
      near(r.voltageV.L1, 230.1);
      near(r.currentA.L1, 10.5);
      near(r.powerW, -2500.75);
      near(r.frequencyHz, 49.99);
    } finally {
      await meter.close();
    }
  });

  test('options are checked: exactly one transport, a known model', async () => {
    await assert.rejects(create({ model: 'sdm630', unit: 1 }, driverContext({ clock, log: quietLog, part: 'meter' })), /exactly one of "tcp"/);
    await assert.rejects(create({ model: 'nope', tcp: { host: '127.0.0.1' } }, driverContext({ clock, log: quietLog, part: 'meter' })), /no register map/);
  });
});
