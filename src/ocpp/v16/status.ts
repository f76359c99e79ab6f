/**
 * StatusNotification (spec 4.9) for connector 0 and each connector, from the station's 'status' events.
 * Not queued: a change while offline or not Accepted is dropped, and after every accepted boot the
 * present status of connector 0 and every connector is sent (errata 3.22), which is what the CSMS
 * needs (4.9 rules 1 and 3). MinimumStatusDuration > 0 holds a change back until it has been stable
 * that long, then sends the status of that moment (if it still differs from the last one sent).
 *
 * One physical change gives one status: the changes of a connector within one turn of the event loop
 * (e.g. tap → authorized → PWM on → EV asks → lock confirmed → contactor closed, which passes through
 * SuspendedEVSE on the way) are reported once, as the state the connector settled in. That is the only
 * debounce when MinimumStatusDuration is 0; no wall-clock delay is added.
 *
 * A connector whose StartTransaction is queued and not yet answered reports Charging, SuspendedEV or
 * SuspendedEVSE only once it is answered (or given up), with the status of that moment: the Central
 * System hears StartTransaction before the Charging of its connector. Other statuses (Faulted,
 * Finishing, Available …) are not held back.
 *
 * Connector 0 (the charge point itself: Available, Unavailable or Faulted) is derived here, as the
 * station models EVSEs only: Faulted on a station-level fault of high severity (reader faults are
 * reported as a warning with status Available), Unavailable when every connector is, else Available.
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { ConnectorState, Fault as HalFault, FaultKind as HalFaultKind } from '../../station/api.js';
import type { StatusNotificationRequest } from '../messages/v16.js';
import { errorFieldsOf, type ErrorCode } from './error-codes.js';
import { connectorOf, type V16Context } from './context.js';

const CP_STATUSES = new Set(['Available', 'Unavailable', 'Faulted']);
/** Statuses that say "a transaction runs here": not before its StartTransaction. */
const IN_TRANSACTION = new Set(['Charging', 'SuspendedEV', 'SuspendedEVSE']);

export class StatusReporter {
  private readonly lastSent = new Map<number, string>();
  private readonly held = new Map<number, TimerHandle>();
  private readonly cpFaults = new Map<HalFaultKind, HalFault>();
  /** Connectors with a change to report at the end of this event-loop turn. */
  private readonly settling = new Set<number>();
  /** Connectors waiting for their StartTransaction.conf; true: send even if unchanged (triggered, after boot). */
  private readonly afterStart = new Map<number, boolean>();
  private generation = 0;

  constructor(
    private readonly ctx: V16Context,
    /** Is the StartTransaction of this connector's transaction queued and not yet answered? */
    private readonly startPending: (connectorId: number) => boolean = () => false,
  ) {}

  onStatus(state: ConnectorState): void {
    this.changed(connectorOf(state.evseId));
    if (state.evseId !== 0) this.cpChanged();
  }

  /** Station-level faults (EVSE id 0, e.g. the card reader) make up connector 0's error code. */
  onFault(evseId: number, fault: HalFault): void {
    if (evseId !== 0) return;
    this.cpFaults.set(fault.kind, fault);
    this.cpChanged();
  }

  onFaultCleared(evseId: number, kind: HalFaultKind): void {
    if (evseId !== 0 || !this.cpFaults.delete(kind)) return;
    this.cpChanged();
  }

  private cpChanged(): void {
    if (signature(this.current(0)) !== this.lastSent.get(0)) this.changed(0);
  }

  private changed(id: number): void {
    if (this.ctx.registration !== 'Accepted') return;
    const minS = this.ctx.cfg.int('MinimumStatusDuration');
    if (minS <= 0) {
      if (this.settling.has(id)) return;
      this.settling.add(id);
      const generation = this.generation;
      // setImmediate: the end of this turn (every microtask of the change has run), not a delay in time.
      setImmediate(() => {
        if (generation !== this.generation) return;
        this.settling.delete(id);
        this.report(id, false);
      });
      return;
    }
    this.ctx.clock.clear(this.held.get(id));
    this.held.set(
      id,
      this.ctx.clock.setTimeout(() => {
        this.held.delete(id);
        this.report(id, false);
      }, minS * 1000),
    );
  }

  /** Send the connector's present status if it differs from the last one sent (or `force`), once it may go. */
  private report(id: number, force: boolean): void {
    if (this.ctx.registration !== 'Accepted') return;
    const now = this.current(id);
    if (id !== 0 && IN_TRANSACTION.has(now.status) && this.startPending(id)) {
      this.afterStart.set(id, force || this.afterStart.get(id) === true);
      return;
    }
    if (force || this.lastSent.get(id) !== signature(now)) this.send(id, now);
  }

  /** The connector's StartTransaction was answered or given up: what waited for it goes now. */
  startSettled(id: number): void {
    const force = this.afterStart.get(id);
    if (force === undefined) return;
    this.afterStart.delete(id);
    this.report(id, force);
  }

  /** After boot Accepted, and for TriggerMessage without connectorId. */
  sendAll(): void {
    for (const id of [0, ...this.ctx.station.evseIds.map(connectorOf)]) this.report(id, true);
  }

  sendOne(id: number): void {
    this.report(id, true);
  }

  /**
   * 3.5.2: connector 0 with errorCode LocalListConflict (local-list-conflict.ts). Not held back by
   * MinimumStatusDuration (it is an event, not a state); the next change of connector 0 reports
   * NoError again, as it differs from this one.
   */
  localListConflict(info: string): void {
    if (this.ctx.registration !== 'Accepted') return;
    const now = this.current(0);
    this.send(0, { ...now, errorCode: 'LocalListConflict', info: info.slice(0, 50) });
  }

  stop(): void {
    for (const t of this.held.values()) this.ctx.clock.clear(t);
    this.held.clear();
    this.settling.clear();
    this.afterStart.clear();
    this.generation++;
  }

  reset(): void {
    this.stop();
    this.lastSent.clear();
  }

  current(id: number): SentState {
    if (id !== 0) return as16(this.ctx.station.connector(id));
    const { station, clock } = this.ctx;
    const faults = [...this.cpFaults.values()];
    const fault = faults.find((f) => f.severity === 'high') ?? faults[0];
    const allDown = station.evseIds.length > 0 && station.evseIds.every((e) => station.connector(e).status === 'Unavailable');
    const state: ConnectorState = {
      evseId: 0,
      connectorId: 0,
      status: fault?.severity === 'high' ? 'Faulted' : allDown ? 'Unavailable' : 'Available',
      at: clock.now(),
    };
    if (fault) state.fault = fault;
    if (fault) state.info = (fault.detail ? `${fault.kind}: ${fault.detail}` : fault.kind).slice(0, 50);
    return as16(state);
  }

  private send(id: number, state: SentState): void {
    let status: StatusNotificationRequest['status'] = state.status;
    if (id === 0 && !CP_STATUSES.has(status)) status = 'Available';
    const req: StatusNotificationRequest = {
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

/** 1.6 has error codes the station does not raise itself: LocalListConflict comes from the adapter. */
type SentState = Omit<ConnectorState, 'fault'> & { errorCode: ErrorCode | 'LocalListConflict'; vendorErrorCode?: string };

/** A station connector state in 1.6 words (src/ocpp/v16/error-codes.ts). */
function as16(state: ConnectorState): SentState {
  const { fault: _fault, info: _info, ...rest } = state;
  return { ...rest, ...errorFieldsOf(state) };
}

const signature = (s: SentState): string => `${s.status}|${s.errorCode}|${s.info ?? ''}|${s.vendorErrorCode ?? ''}`;
