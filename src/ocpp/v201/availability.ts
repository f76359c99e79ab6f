/**
 * G01–G05: StatusNotification per connector from the station's 1.6-grained status, ChangeAvailability
 * for station / EVSE / connector, and faults (G05 lock failure) as NotifyEvent.
 */
import type { HalFault, HalFaultKind } from '../../../hal/types.js';
import type { ConnectorState, ConnectorStatus } from '../../station/api.js';
import type { ChangeAvailabilityRequest, ChangeAvailabilityResponse, ComponentType, ConnectorStatusEnumType, EventDataType } from '../messages/v201.js';
import type { V201Context } from './context.js';

export type ConnectorStatus201 = ConnectorStatusEnumType;

export function mapStatus(s: ConnectorStatus): ConnectorStatus201 {
  switch (s) {
    case 'Available':
    case 'Reserved':
    case 'Unavailable':
    case 'Faulted':
      return s;
    default:
      return 'Occupied';
  }
}

export class Availability {
  /** Last status the CSMS was told, per EVSE (one connector each). */
  private readonly sent = new Map<number, ConnectorStatus201>();
  private eventSeq = 0;
  private eventId = 1;

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.handle('ChangeAvailability', (params) => this.changeAvailability(params));
    this.ctx.onStation('status', (st) => this.onStatus(st));
    this.ctx.onStation('fault-raised', (evseId, fault) => void this.notifyFault(evseId, fault.kind, false, fault));
    this.ctx.onStation('fault-cleared', (evseId, kind) => void this.notifyFault(evseId, kind, true));
  }

  /** B01.FR.05 after Accepted: every connector; after a reconnect only those that changed. */
  async sendAll(onlyChanged: boolean, opts: { triggered?: boolean } = {}): Promise<void> {
    for (const evseId of this.ctx.station.evseIds) {
      const st = this.ctx.station.connector(evseId);
      if (onlyChanged && this.sent.get(evseId) === mapStatus(st.status)) continue;
      await this.send(st, opts);
    }
  }

  async sendOne(evseId: number, opts: { triggered?: boolean } = {}): Promise<void> {
    await this.send(this.ctx.station.connector(evseId), opts);
  }

  /**
   * Changes within one turn of the event loop are coalesced (e.g. Finishing → Available → Unavailable
   * when a scheduled ChangeAvailability applies): the CSMS hears the state the connector settled in.
   */
  private onStatus(st: ConnectorState): void {
    if (this.flushing.has(st.evseId)) return;
    this.flushing.add(st.evseId);
    setImmediate(() => {
      this.flushing.delete(st.evseId);
      if (this.ctx.stopped) return;
      const now = this.ctx.station.connector(st.evseId);
      if (this.sent.get(st.evseId) === mapStatus(now.status)) return;
      void this.send(now);
    });
  }
  private readonly flushing = new Set<number>();

  private async send(st: ConnectorState, opts: { triggered?: boolean } = {}): Promise<void> {
    const connectorStatus = mapStatus(st.status);
    if (!this.ctx.maySend('StatusNotification', opts)) return;
    // Recorded before the answer so that a change arriving meanwhile is compared with what is on its way.
    const previous = this.sent.get(st.evseId);
    this.sent.set(st.evseId, connectorStatus);
    const res = await this.ctx.send('StatusNotification', {
      timestamp: this.ctx.iso(st.at),
      connectorStatus,
      evseId: st.evseId,
      connectorId: st.connectorId,
    }, opts);
    if (!res && this.sent.get(st.evseId) === connectorStatus) {
      if (previous === undefined) this.sent.delete(st.evseId);
      else this.sent.set(st.evseId, previous);
    }
  }

  private changeAvailability(req: ChangeAvailabilityRequest): ChangeAvailabilityResponse {
    const evseId = req.evse?.id ?? 0;
    if (evseId !== 0 && !this.ctx.station.evseIds.includes(evseId)) return { status: 'Rejected' };
    if (req.evse?.connectorId !== undefined && req.evse.connectorId !== 1) return { status: 'Rejected' };
    return { status: this.ctx.station.setAvailability(evseId, req.operationalStatus === 'Operative') };
  }

  /** G05 / N07: hardware problems as NotifyEvent on the component that has them. */
  private async notifyFault(evseId: number, kind: HalFaultKind, cleared: boolean, fault?: HalFault): Promise<void> {
    const component: ComponentType =
      kind === 'lock-failure'
        ? { name: 'ConnectorPlugRetentionLock', evse: { id: evseId, connectorId: 1 } }
        : evseId > 0
          ? { name: 'EVSE', evse: { id: evseId } }
          : { name: 'ChargingStation' };
    const event: EventDataType = {
      eventId: this.eventId++,
      timestamp: this.ctx.iso(),
      trigger: 'Delta',
      actualValue: cleared ? 'false' : 'true',
      techCode: kind,
      cleared,
      eventNotificationType: 'HardWiredNotification',
      component,
      variable: { name: 'Problem' },
    };
    if (fault?.detail) event.techInfo = fault.detail.slice(0, 500);
    const tx = evseId > 0 ? this.ctx.station.session(evseId) : undefined;
    if (tx && this.ctx.txRepo.get(tx.id)?.started) event.transactionId = tx.id;
    await this.ctx.send('NotifyEvent', { generatedAt: this.ctx.iso(), seqNo: this.eventSeq++, eventData: [event] });
  }
}
