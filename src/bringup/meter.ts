/**
 * `ocpp-station meter read --model sdm630 (--modbus-tcp HOST:PORT | --modbus-rtu DEVICE [--baud N]) --unit N [--once]`
 * Reads an energy meter with the station's own driver and register map and prints every measurand
 * with its unit, once or every --interval seconds until Ctrl-C.
 */
import { ModbusMeter, parseModbusMeterOptions } from '../../hal/modbus/meter.js';
import { acquireBus } from '../../hal/modbus/bus.js';
import { driverContext } from '../../hal/registry.js';
import { MEASURANDS } from '../../hal/modbus/register-map.js';
import { intArg, processIo, runCommand, stderrLog, stoppedWithin, UsageError, type BringupIo } from './common.js';

const USAGE = `usage: ocpp-station meter read --model MODEL (--modbus-tcp HOST:PORT | --modbus-rtu DEVICE [--baud N] [--parity none|even|odd])
                                --unit N [--once] [--interval S] [--timeout MS] [--verbose]
  MODEL is a register map in config/meters/ (sdm630, sdm120, sdm72, abb-b23).`;

const OPTIONS = {
  model: { type: 'string', default: 'sdm630' },
  'modbus-tcp': { type: 'string' },
  'modbus-rtu': { type: 'string' },
  baud: { type: 'string' },
  parity: { type: 'string' },
  unit: { type: 'string' },
  once: { type: 'boolean', default: false },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function unitOf(name: string): string {
  return /Wh$/.test(name) ? 'Wh' : /W$/.test(name) ? 'W' : /Hz$/.test(name) ? 'Hz' : /A$/.test(name) ? 'A' : /V$/.test(name) ? 'V' : '';
}

export async function main(argv: string[], io: BringupIo = processIo()): Promise<number> {
  return runCommand(argv, io, USAGE, OPTIONS, async (v) => {
    if (!v['modbus-tcp'] === !v['modbus-rtu']) throw new UsageError('give exactly one of --modbus-tcp HOST:PORT or --modbus-rtu DEVICE');
    let transport: Record<string, unknown>;
    if (v['modbus-tcp']) {
      const m = /^(.+):(\d+)$/.exec(v['modbus-tcp']);
      transport = { tcp: m ? { host: m[1], port: Number(m[2]) } : { host: v['modbus-tcp'], port: 502 } };
    } else {
      transport = { rtu: { path: v['modbus-rtu'], baudRate: intArg(v.baud, 'baud', 9600), ...(v.parity ? { parity: v.parity } : {}) } };
    }
    const options = parseModbusMeterOptions(
      { model: v.model, ...transport, unit: intArg(v.unit, 'unit', 1), timeoutMs: intArg(v.timeout, 'timeout', 1000), retries: 1, failuresBeforeFault: 3, pollIntervalMs: 0 },
      'meter',
    );
    const ctx = driverContext({ clock: io.clock, log: stderrLog(io, v.verbose), part: 'meter', seams: io.deps });
    const meter = new ModbusMeter(options, ctx, await acquireBus(options.target, ctx));
    meter.on('fault', (f) => io.err(`fault: ${f.kind} (${f.severity}) ${f.detail ?? ''}`));
    meter.on('fault-cleared', (k) => io.err(`fault cleared: ${k}`));
    const stop = v.once ? undefined : io.stopped();
    let failures = 0;
    try {
      for (;;) {
        try {
          await meter.read();
          const values = meter.last ?? {};
          io.out(`${options.map.model} unit ${options.unit} at ${new Date(io.clock.now()).toISOString()}`);
          for (const name of MEASURANDS) {
            const x = values[name];
            if (x !== undefined) io.out(`  ${name.padEnd(16)} ${x.toFixed(3).padStart(14)} ${unitOf(name)}`);
          }
        } catch (err) {
          failures++;
          io.err(`read failed: ${(err as Error).message}`);
          if (v.once) return 1;
        }
        if (!stop || (await stoppedWithin(io, stop, intArg(v.interval, 'interval', 2) * 1000))) break;
      }
    } finally {
      await meter.close();
      await ctx.close();
    }
    return failures > 0 && v.once ? 1 : 0;
  });
}
