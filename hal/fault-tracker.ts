import type { HalFault, HalFaultKind } from './types.js';

/**
 * Remembers which faults a part has raised so that 'fault' and 'fault-cleared' are emitted only on
 * transitions (a meter that keeps failing reports meter-silent once, not every poll).
 */
export class FaultTracker {
  private readonly active = new Map<HalFaultKind, HalFault>();

  constructor(
    private readonly onRaise: (f: HalFault) => void,
    private readonly onClear: (k: HalFaultKind) => void,
  ) {}

  raise(fault: HalFault): void {
    if (this.active.has(fault.kind)) return;
    this.active.set(fault.kind, fault);
    this.onRaise(fault);
  }

  clear(kind: HalFaultKind): void {
    if (!this.active.delete(kind)) return;
    this.onClear(kind);
  }

  has(kind: HalFaultKind): boolean {
    return this.active.has(kind);
  }

  /** Faults raised and not cleared, e.g. for a part whose port was missing before anyone listened. */
  list(): HalFault[] {
    return [...this.active.values()];
  }
}
