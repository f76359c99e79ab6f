/**
 * What the anchored benches share: the strict CSMS in a child process (./csms-child.ts), the bare
 * ocpp-rpc client every figure is compared with, the 1.6 MeterValues both send, and the ratio line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const supportDir = dirname(fileURLToPath(import.meta.url));

export interface CsmsChild {
  url: string;
  /** Resolves at the next BootNotification the CSMS receives (the time it read it). */
  nextBoot(): Promise<bigint>;
  /** MeterValues answered so far. */
  calls(): Promise<number>;
  forget(): void;
  close(): Promise<void>;
}

export async function startCsmsChild(): Promise<CsmsChild> {
  const proc: ChildProcess = spawn(process.execPath, [join(supportDir, 'csms-child.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const waiting: { key: string; resolve: (v: Record<string, unknown>) => void }[] = [];
  lines.on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const i = waiting.findIndex((w) => w.key in msg);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve({ ...msg, at: process.hrtime.bigint() });
  });
  const next = (key: string) => new Promise<Record<string, unknown>>((resolve) => waiting.push({ key, resolve }));
  const { url } = (await next('url')) as { url: string };
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  return {
    url,
    nextBoot: async () => (await next('boot')).at as bigint,
    calls: async () => {
      const p = next('calls');
      proc.stdin!.write('count\n');
      return (await p).calls as number;
    },
    forget: () => void proc.stdin!.write('forget\n'),
    close: async () => {
      proc.stdin!.end();
      await exited;
    },
  };
}

/** One 1.6 MeterValues of a transaction, as the station sends them (energy, power, current). */
export function meterValues(connectorId: number, transactionId: number, n: number): Record<string, unknown> {
  return {
    connectorId,
    transactionId,
    meterValue: [
      {
        timestamp: new Date().toISOString(),
        sampledValue: [
          { value: String(1000 + n * 3), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: '7360', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
          { value: '32.0', context: 'Sample.Periodic', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
        ],
      },
    ],
  };
}

/** "figure (anchor A, ratio R×, goal G)" — figures only, no pass/fail. */
export function anchored(what: string, value: number, anchor: number, unit: string, goal: string, digits = 1): string {
  const ratio = anchor > 0 ? value / anchor : NaN;
  return `${what.padEnd(44)} ${value.toFixed(digits)} ${unit}   bare ocpp-rpc ${anchor.toFixed(digits)} ${unit}   ratio ${ratio.toFixed(2)}×   (goal ${goal})`;
}

export function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
