/**
 * Energy meters over Modbus RTU or TCP, decoded with a register map (config/meters/MODEL.json or
 * an inline "registerMap"). Each read() asks the meter; failures are retried, and after
 * failuresBeforeFault consecutive failed reads the meter raises meter-silent (OCPP
 * PowerMeterFailure), cleared by the next good read. A background poll keeps watching the meter
 * while nobody reads it, so a dead meter is noticed before a session needs it.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { TimerHandle } from '../../base/clock.js';
import type { EnergyMeter, FaultEvents, HalDeps, HalFault, MeterReading } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { checkOptions } from '../options-schema.js';
import type { DriverContext } from '../registry.js';
import { acquireBus, busKey, ConnectError, type BusTarget, type ModbusBus } from './bus.js';
import { modbusMeterRules, modbusMeterSchema } from './schemas.js';
import { decodeValue, loadRegisterMap, parseRegisterMap, planReads, type Measurand, type ReadBlock, type RegisterMap } from './register-map.js';

export interface ModbusMeterOptions {
  map: RegisterMap;
  target: BusTarget;
  unit: number;
  timeoutMs: number;
  retries: number;
  failuresBeforeFault: number;
  /** Background poll period; 0 = only when read() is called. */
  pollIntervalMs: number;
}

interface RawMeterOptions {
  model?: string;
  registerMap?: Record<string, unknown>;
  tcp?: { host: string; port: number };
  rtu?: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };
  unit: number;
  timeoutMs: number;
  retries: number;
  failuresBeforeFault: number;
  pollIntervalMs: number;
}

/**
 * Options checked by hal/modbus/schemas.ts modbusMeterSchema and its rules (defaults filled in);
 * the register map is read (model) or taken inline.
 */
export function parseModbusMeterOptions(raw: unknown, where = 'meter options', mapsDir?: string): ModbusMeterOptions {
  const o = checkOptions<RawMeterOptions>(modbusMeterSchema, raw, where, modbusMeterRules);
  const { unit, timeoutMs, retries, failuresBeforeFault, pollIntervalMs } = o;
  return {
    map: o.registerMap ? parseRegisterMap(o.registerMap, `${where} /registerMap`) : loadRegisterMap(o.model as string, mapsDir),
    target: o.tcp ? { kind: 'tcp', ...o.tcp } : { kind: 'rtu', ...(o.rtu as NonNullable<RawMeterOptions['rtu']>) },
    unit,
    timeoutMs,
    retries,
    failuresBeforeFault,
    pollIntervalMs,
  };
}

export type MeterValues = Partial<Record<Measurand, number>>;

export class ModbusMeter extends TypedEmitter<FaultEvents> implements EnergyMeter {
  private readonly blocks: ReadBlock[];
  private inFlight: Promise<MeterReading> | undefined;
  private failures = 0;
  private poller: TimerHandle | undefined;
  private closed = false;
  private readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );
  /** Every decoded measurand of the last good read (the bring-up command prints them all). */
  last: MeterValues | undefined;

  constructor(
    readonly options: ModbusMeterOptions,
    private readonly deps: HalDeps,
    /** The connection, shared with the other meters on it (acquireBus). */
    private readonly bus: ModbusBus,
  ) {
    super(deps.log);
    this.blocks = planReads(options.map);
  }

  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  start(): void {
    if (this.options.pollIntervalMs > 0) {
      this.poller = this.deps.clock.setInterval(() => void this.read().catch(() => undefined), this.options.pollIntervalMs);
    }
  }

  /** Concurrent callers share one request. */
  read(): Promise<MeterReading> {
    if (this.closed) return Promise.reject(new Error('meter closed'));
    this.inFlight ??= this.readWithRetries().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async readWithRetries(): Promise<MeterReading> {
    let lastErr: unknown;
    for (let i = 0; i <= this.options.retries; i++) {
      try {
        const values = await this.readOnce();
        this.failures = 0;
        this.faults.clear('port-lost');
        this.faults.clear('meter-silent');
        this.last = values;
        return this.toReading(values);
      } catch (err) {
        lastErr = err;
      }
    }
    this.failures++;
    const msg = describe(lastErr);
    // A serial adapter that vanished is a port problem first: say so at once, the meter may be fine.
    if (lastErr instanceof ConnectError && this.options.target.kind === 'rtu') {
      this.faults.raise({ kind: 'port-lost', severity: 'low', detail: msg });
    }
    this.deps.log.warn('meter read failed', { bus: busKey(this.options.target), unit: this.options.unit, failures: this.failures, err: msg });
    if (this.failures >= this.options.failuresBeforeFault) {
      this.faults.raise({
        kind: 'meter-silent',
        severity: 'low',
        detail: `${this.options.map.model} unit ${this.options.unit} on ${busKey(this.options.target)}: ${this.failures} reads failed (${msg})`,
      });
    }
    throw new Error(`meter ${this.options.map.model} unit ${this.options.unit}: ${msg}`);
  }

  private async readOnce(): Promise<MeterValues> {
    const values: MeterValues = {};
    for (const b of this.blocks) {
      const buf = await this.bus.read(this.options.unit, b.function, b.start, b.count, this.options.timeoutMs);
      if (buf.length < b.count * 2) throw new Error(`short answer: ${buf.length} bytes for ${b.count} registers`);
      for (const { name, def } of b.items) values[name] = decodeValue(buf, def.address - b.start, def);
    }
    return values;
  }

  private toReading(v: MeterValues): MeterReading {
    const phases = ['L1', 'L2', 'L3'] as const;
    const currentA: MeterReading['currentA'] = {};
    const voltageV: MeterReading['voltageV'] = {};
    for (const p of phases) {
      const c = v[`current${p}A`];
      const u = v[`voltage${p}V`];
      if (c !== undefined) currentA[p] = c;
      if (u !== undefined) voltageV[p] = u;
    }
    const perPhase = [v.powerL1W, v.powerL2W, v.powerL3W].filter((x): x is number => x !== undefined);
    return {
      at: this.deps.clock.now(),
      energyImportWh: v.energyImportWh ?? 0,
      ...(v.energyExportWh !== undefined ? { energyExportWh: v.energyExportWh } : {}),
      powerW: v.powerW ?? perPhase.reduce((a, b) => a + b, 0),
      currentA,
      voltageV,
      ...(v.frequencyHz !== undefined ? { frequencyHz: v.frequencyHz } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.clock.clear(this.poller);
    await this.inFlight?.catch(() => undefined);
    await this.bus.release();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

export async function create(options: unknown, ctx: DriverContext): Promise<ModbusMeter> {
  const opts = parseModbusMeterOptions(options);
  const meter = new ModbusMeter(opts, ctx, await acquireBus(opts.target, ctx));
  meter.start();
  return meter;
}
