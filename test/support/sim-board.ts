/** A simulated board on a VirtualClock for tests, with a logger that keeps what it was told. */
import { VirtualClock } from '../../base/clock.js';
import { createHal } from '../../hal/index.js';
import type { BoardProfile, SimEvOptions } from '../../hal/profile.js';
import type { Hal, SimControl } from '../../hal/types.js';
import { loggerOver, NAMESPACE_FIELD, type Logger } from '../../base/logger.js';

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  msg: string;
  meta?: Record<string, unknown>;
  /** The namespace of the child logger that wrote it. */
  ns?: string;
}

export function memoryLog(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (msg: string, meta?: Record<string, unknown>) => {
    // A child logger's namespace (`ocpp:v201:boot`) says where the line comes from: kept beside meta, not in it.
    const ns = meta?.[NAMESPACE_FIELD];
    if (meta === undefined || typeof ns !== 'string') return void entries.push({ level, msg, meta });
    const { [NAMESPACE_FIELD]: _ns, ...rest } = meta;
    entries.push({ level, msg, meta: Object.keys(rest).length > 0 ? rest : undefined, ns });
  };
  const sink = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  return { entries, ...sink, child: (namespace: string) => loggerOver(sink, namespace) };
}

export function simProfile(ev: SimEvOptions = {}, evseCount = 1, phases: 1 | 3 = 3): BoardProfile {
  return {
    name: 'sim',
    evses: Array.from({ length: evseCount }, (_, i) => ({
      id: i + 1,
      maxCurrentA: 32,
      phases,
      connectorType: 'sType2',
      pilot: { driver: 'sim' },
      contactor: { driver: 'sim' },
      lock: { driver: 'sim' },
      meter: { driver: 'sim' },
      ev,
    })),
    reader: { driver: 'sim' },
    display: { driver: 'sim' },
  };
}

export interface SimBoard {
  hal: Hal;
  sim: SimControl;
  clock: VirtualClock;
  log: ReturnType<typeof memoryLog>;
}

export async function simBoard(ev: SimEvOptions = {}, evseCount = 1, phases: 1 | 3 = 3): Promise<SimBoard> {
  const clock = new VirtualClock();
  const log = memoryLog();
  const hal = await createHal(simProfile(ev, evseCount, phases), { clock, log });
  if (!hal.sim) throw new Error('the sim board has no SimControl');
  return { hal, sim: hal.sim, clock, log };
}
