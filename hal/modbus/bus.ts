/**
 * One Modbus connection (an RS-485 port or a TCP gateway) shared by every meter on it, with the
 * requests of all units queued one after the other: RTU is half-duplex and many TCP gateways
 * handle one request at a time. The connection is (re)opened lazily before a request, so a meter
 * that was unplugged is picked up again without a restart.
 */
import modbusSerial from 'modbus-serial';
import type { HalDeps } from '../types.js';
import type { DriverContext } from '../registry.js';
import type { RegisterFunction } from './register-map.js';

export type BusTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'rtu'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };

// modbus-serial is CommonJS: module.exports is the client class and .default points back to it,
// which is also what its typings call the default export.
const ModbusRTU = modbusSerial.default;
type Client = InstanceType<typeof ModbusRTU>;

/** The connection could not be opened (serial device missing, TCP refused), as opposed to a meter not answering. */
export class ConnectError extends Error {
  override name = 'ConnectError';
}

export function busKey(t: BusTarget): string {
  return t.kind === 'tcp' ? `tcp:${t.host}:${t.port}` : `rtu:${t.path}`;
}

export class ModbusBus {
  private readonly client: Client = new ModbusRTU();
  private queue: Promise<unknown> = Promise.resolve();
  private users = 0;

  constructor(
    readonly target: BusTarget,
    private readonly deps: HalDeps,
  ) {
    // modbus-serial emits 'error' on socket trouble; without a listener that would crash the daemon.
    this.client.on('error', (err: unknown) => deps.log.debug('modbus connection error', { bus: busKey(target), err: String(err) }));
  }

  get isOpen(): boolean {
    return this.client.isOpen;
  }

  /** Read `count` registers; the promise settles within about timeoutMs (modbus-serial's own timer). */
  read(unit: number, fn: RegisterFunction, start: number, count: number, timeoutMs: number): Promise<Buffer> {
    const run = this.queue.then(async () => {
      await this.connect(timeoutMs);
      this.client.setID(unit);
      this.client.setTimeout(timeoutMs);
      const r = fn === 'input' ? await this.client.readInputRegisters(start, count) : await this.client.readHoldingRegisters(start, count);
      return r.buffer;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connect(timeoutMs: number): Promise<void> {
    if (this.client.isOpen) return;
    const t = this.target;
    try {
      if (t.kind === 'tcp') await this.client.connectTCP(t.host, { port: t.port, timeout: timeoutMs });
      else await this.client.connectRTUBuffered(t.path, { baudRate: t.baudRate, parity: t.parity, dataBits: t.dataBits, stopBits: t.stopBits });
    } catch (err) {
      throw new ConnectError(`cannot open ${busKey(t)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.deps.log.info('modbus connected', { bus: busKey(t) });
  }

  acquire(): this {
    this.users++;
    return this;
  }

  /** Closes the connection when the last meter on it lets go (a later read opens it again). */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    await this.queue;
    if (this.client.isOpen) await new Promise<void>((resolve) => this.client.close(() => resolve()));
  }
}

/** The meters on one port or gateway share its connection through the driver context. */
export async function acquireBus(target: BusTarget, ctx: DriverContext): Promise<ModbusBus> {
  const bus = await ctx.shared(`modbus:${busKey(target)}`, (log) => new ModbusBus(target, { clock: ctx.clock, log }));
  return bus.acquire();
}
