/** The faults the simulated board can inject, shared by the control socket, the CLI and scenarios. */
import type { SimFaultKind } from '../types.js';

export const SIM_FAULT_KINDS: readonly SimFaultKind[] = ['welded', 'lock', 'meter-silent', 'pilot-e', 'pilot-f', 'rcd', 'reader'];

export function isSimFaultKind(v: unknown): v is SimFaultKind {
  return typeof v === 'string' && (SIM_FAULT_KINDS as readonly string[]).includes(v);
}

/** Meter reads that must fail in a row before the simulated meter reports 'meter-silent'. */
export const METER_SILENT_AFTER_FAILED_READS = 3;
