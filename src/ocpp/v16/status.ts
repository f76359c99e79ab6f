/**
 * StatusNotification (spec 4.9) for connector 0 and each connector, from the station's 'status' events.
 * Not queued: a change while offline or not Accepted is dropped, and after every accepted boot the
 * present status of connector 0 and every connector is sent (errata 3.22), which is what the CSMS
 * needs (4.9 rules 1 and 3). MinimumStatusDuration > 0 holds a change back until it has been stable
 * that long, then sends the status of that moment (if it still differs from the last one sent).
 */
import type { TimerHandle } from '../../../hal/clock.js';
import type { ConnectorState } from '../../station/api.js';
import { connectorOf, type V16Context } from './context.js';

const CP_STATUSES = new Set(['Available', 'Unavailable', 'Faulted']);

export class StatusReporter {
  private readonly lastSent = new Map<number, string>();
  private readonly held = new Map<number, TimerHandle>();

  constructor(private readonly ctx: V16Context) {}

  onStatus(state: ConnectorState): void {
    if (this.ctx.registration !== 'Accepted') return;
    const id = connectorOf(state.evseId);
    const minS = this.ctx.cfg.int('MinimumStatusDuration');
    if (minS <= 0) {
      this.send(id, state);
      return;
    }
    this.ctx.clock.clear(this.held.get(id));
    this.held.set(
      id,
      this.ctx.clock.setTimeout(() => {
        this.held.delete(id);
        if (this.ctx.registration !== 'Accepted') return;
        const now = this.current(id);
        if (this.lastSent.get(id) !== signature(now)) this.send(id, now);
      }, minS * 1000),
    );
  }

  /** After boot Accepted, and for TriggerMessage without connectorId. */
  sendAll(): void {
    for (const id of [0, ...this.ctx.station.evseIds.map(connectorOf)]) this.send(id, this.current(id));
  }

  sendOne(id: number): void {
    this.send(id, this.current(id));
  }

  stop(): void {
    for (const t of this.held.values()) this.ctx.clock.clear(t);
    this.held.clear();
  }

  reset(): void {
    this.stop();
    this.lastSent.clear();
  }

  current(id: number): ConnectorState {
    if (id !== 0) return this.ctx.station.connector(id);
    try {
      const s = this.ctx.station.connector(0);
      if (s) return s;
    } catch {
      // The station may not model connector 0; the charge point itself is then simply available.
    }
    return { evseId: 0, connectorId: 0, status: 'Available', errorCode: 'NoError', at: this.ctx.clock.now() };
  }

  private send(id: number, state: ConnectorState): void {
    let status: string = state.status;
    if (id === 0 && !CP_STATUSES.has(status)) status = 'Available';
    const req: Record<string, unknown> = {
      connectorId: id,
      errorCode: state.errorCode,
      status,
      timestamp: this.ctx.iso(state.at),
    };
    if (state.info) req.info = state.info.slice(0, 50);
    if (state.vendorErrorCode) req.vendorErrorCode = state.vendorErrorCode.slice(0, 50);
    this.lastSent.set(id, signature(state));
    this.ctx.link.call('StatusNotification', req).catch((err: unknown) => {
      this.ctx.log.debug('StatusNotification not delivered', { connectorId: id, error: String(err) });
    });
  }
}

const signature = (s: ConnectorState): string => `${s.status}|${s.errorCode}|${s.info ?? ''}|${s.vendorErrorCode ?? ''}`;
