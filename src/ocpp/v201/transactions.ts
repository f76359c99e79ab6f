/**
 * E01–E14: TransactionEvent Started / Updated / Ended from the station's session events, with
 * TxStartPoint / TxStopPoint of TxCtrlr deciding where the OCPP transaction lies inside a session.
 * Every event goes through the durable outbox; its seqNo is taken and committed in the same SQLite
 * transaction as the enqueue, so seqNo stays gapless per transaction across restarts.
 * The transactionId is the station session id.
 */
import type { AuthInfo, MeterSample, Session, SessionEvent, SessionTrigger, StopReason } from '../../station/api.js';
import type { OutboxMessage } from '../link.js';
import type { QueuedMessage } from '../messages/typed-link.js';
import type {
  GetTransactionStatusRequest,
  GetTransactionStatusResponse,
  ReasonEnumType,
  TransactionEventEnumType,
  TransactionEventRequest,
  TransactionEventResponse,
  TransactionType,
  V201Messages,
} from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { MeterValue, Metering } from './metering.js';

type EventType = TransactionEventEnumType;
type Point = 'ParkingBayOccupancy' | 'EVConnected' | 'Authorized' | 'PowerPathClosed' | 'EnergyTransfer' | 'DataSigned';

/** 2.0.1 ReasonEnumType has no reset/unlock kinds of 1.6; map them to their nearest 2.0.1 reason. */
export function toReason(r: StopReason): ReasonEnumType {
  switch (r) {
    case 'HardReset':
    case 'SoftReset':
      return 'Reboot';
    case 'UnlockCommand':
      return 'Other';
    default:
      return r;
  }
}

/** The stop reason implied by what ended a transaction, when the session carries none yet. */
function reasonOfTrigger(t: SessionTrigger): StopReason {
  switch (t) {
    case 'EVDeparted':
    case 'EVCommunicationLost':
      return 'EVDisconnected';
    case 'StopAuthorized':
      return 'Local';
    case 'Deauthorized':
      return 'DeAuthorized';
    case 'RemoteStop':
      return 'Remote';
    case 'EVConnectTimeout':
      return 'Timeout';
    case 'EnergyLimitReached':
      return 'EnergyLimitReached';
    case 'TimeLimitReached':
      return 'TimeLimitReached';
    case 'ResetCommand':
      return 'ImmediateReset';
    default:
      return 'Other';
  }
}

/** Station stops after which a transaction may go on until the cable leaves (see waitsForCable). */
const LINGERING_TRIGGERS: ReadonlySet<SessionTrigger> = new Set([
  'StopAuthorized',
  'RemoteStop',
  'Deauthorized',
  'EVConnectTimeout',
  'EnergyLimitReached',
  'TimeLimitReached',
]);

interface EmitExtra {
  meterValue?: MeterValue[] | undefined;
  /** Send the stopping idToken (default: on Ended). */
  stopToken?: boolean;
  /** stoppedReason when the session carries none that fits. */
  reason?: StopReason;
}

/** Did a limit move from `from` to `to` by at least `percent` percent of `from`? */
export function changedBy(from: number, to: number, percent: number): boolean {
  if (from === to) return false;
  if (from === 0) return true;
  return (Math.abs(to - from) / from) * 100 >= percent;
}

export type TxEventResponse = TransactionEventResponse;
/** A queued TransactionEvent as the outbox gives it back with its answer. */
export type TxEventMessage = QueuedMessage<V201Messages, 'TransactionEvent'>;

export class Transactions {
  /** Also told every TransactionEvent response (I02/I03/I06 in tariff-cost.ts). */
  onResponse: ((msg: TxEventMessage, res: TxEventResponse) => void) | undefined;
  /** Last charging state told per transaction (chargingState is sent when it changes). */
  private readonly lastState = new Map<string, string>();
  /** Transactions waiting for their cable (session ended, transaction open): sessionId → evseId, held not idle in the station. */
  private readonly holding = new Map<string, number>();
  /** Last sample per session, for Ended (TxEndedMeasurands) and TriggerMessage(TransactionEvent). */
  private readonly lastSample = new Map<string, MeterSample>();

  constructor(
    private readonly ctx: V201Context,
    private readonly metering: Metering,
  ) {}

  /** When the link last went down; messages queued before it were in the queue while offline (E11.FR.07). */
  private wentOfflineAt = -Infinity;
  /** Queued TransactionEvents per transaction, for GetTransactionStatus (E14.FR.04/05). */
  private readonly queued = new Map<string, number>();
  /** Messages queued before this start, of transactions not known here: counted as "some queued". */
  private backlog = 0;

  register(): void {
    // A message still queued from before this start was in the queue when the station went down.
    this.wentOfflineAt = this.ctx.clock.now();
    this.backlog = this.ctx.link.pendingCount();
    this.ctx.onStation('session', (ev) => this.onSession(ev));
    this.ctx.onStation('session-departed', (ev) => this.onDeparted(ev));
    this.ctx.onStation('limit', (evseId, amps) => this.onLimit(evseId, amps));
    this.ctx.onStation('restart-requested', (kind) => this.endAllWaiting(kind));
    this.ctx.onStation('meter', (s) => this.onMeter(s));
    this.ctx.link.onQueuedResult('TransactionEvent', (msg, res) => {
      this.dequeued(msg);
      this.onResult(msg, res);
      this.onResponse?.(msg, res);
    });
    this.ctx.onLink('message-dead', (msg) => {
      if (msg.action === 'TransactionEvent') this.dequeued(msg);
    });
    this.ctx.onLink('close', () => (this.wentOfflineAt = this.ctx.clock.now()));
    // E11.FR.07: every message still queued when the connection went away is sent with offline=true.
    this.ctx.link.setQueuedPreparer('TransactionEvent', (m) =>
      m.payload.offline !== true && m.createdAt <= this.wentOfflineAt ? { ...m.payload, offline: true } : m.payload,
    );
    this.ctx.handle('GetTransactionStatus', (p) => this.getStatus(p));
  }

  /** Transactions whose Ended was never queued but whose session ended or is gone (missed events). */
  recover(): void {
    for (const row of this.ctx.txRepo.open()) {
      const s = this.ctx.station.findSession(row.transactionId);
      if (s && s.endedAt === undefined) continue;
      const session: Session = s ?? {
        id: row.transactionId,
        evseId: row.evseId,
        connectorId: row.connectorId,
        startedAt: this.ctx.clock.now(),
        powerPathClosed: false,
        chargingState: 'Idle',
        stoppedReason: 'PowerLoss',
      };
      this.emit('Ended', session, 'AbnormalCondition', this.ctx.clock.now(), {});
    }
  }

  /** remoteStartId per EVSE, until the next TransactionEvent of that EVSE has told it (F01.FR.19/25, F02.FR.21). */
  private readonly remoteStarts = new Map<number, number>();

  remoteStartRequested(evseId: number, remoteStartId: number | undefined): void {
    if (remoteStartId === undefined) this.remoteStarts.delete(evseId);
    else this.remoteStarts.set(evseId, remoteStartId);
  }

  isStarted(sessionId: string): boolean {
    const row = this.ctx.txRepo.get(sessionId);
    return !!row && row.started && !row.ended;
  }

  private points(key: 'TxCtrlr.TxStartPoint' | 'TxCtrlr.TxStopPoint'): Set<Point> {
    return new Set(this.ctx.dm.list(key) as Point[]);
  }

  private startReached(s: Session): boolean {
    const p = this.points('TxCtrlr.TxStartPoint');
    return (
      ((p.has('EVConnected') || p.has('ParkingBayOccupancy')) && s.evConnectedAt !== undefined) ||
      (p.has('Authorized') && s.authorizedAt !== undefined) ||
      (p.has('PowerPathClosed') && s.powerPathClosed) ||
      (p.has('EnergyTransfer') && s.chargingState === 'Charging')
    );
  }

  /**
   * Did this event (of a running session) make one of the TxStopPoint conditions false? PowerPathClosed
   * is lost with the EV or the authorization, not by a pause (E06.FR.06, "Flexible transaction start/stop");
   * EnergyTransfer when the charging state leaves Charging (E06.FR.07). Without a parking bay detector the
   * bay counts as occupied until the cable has left and the session is over (see onDeparted).
   */
  private stopReached(ev: SessionEvent): boolean {
    if (ev.type === 'ended') return true;
    const p = this.points('TxCtrlr.TxStopPoint');
    const quiet = ev.type === 'power-path-opened' || ev.type === 'charging-state';
    return (
      ((p.has('EVConnected') || p.has('PowerPathClosed')) && ev.type === 'ev-disconnected') ||
      ((p.has('Authorized') || p.has('PowerPathClosed')) && ev.type === 'deauthorized') ||
      (p.has('EnergyTransfer') && quiet && this.lastState.get(ev.session.id) === 'Charging' && ev.session.chargingState !== 'Charging')
    );
  }

  /**
   * The station ended its session (stop token, remote stop, deauthorization, timeout, limits) with the cable
   * still in. With a TxStopPoint that only waits for the cable (EVConnected / ParkingBayOccupancy), the
   * transaction goes on, energy off and authorization ended, until the cable leaves (E06.FR.02, E07 figure 55).
   * Faults, resets and shutdowns end it at once (E06.FR.16).
   */
  private waitsForCable(ev: SessionEvent): boolean {
    if (ev.type !== 'ended' || ev.session.chargingState === 'Idle') return false;
    if (!LINGERING_TRIGGERS.has(ev.trigger)) return false;
    const p = this.points('TxCtrlr.TxStopPoint');
    const cable = p.has('EVConnected') || p.has('ParkingBayOccupancy');
    return cable && !p.has('Authorized') && !p.has('PowerPathClosed') && !p.has('EnergyTransfer');
  }

  /** 2.0.1 words for an unplug: EVCommunicationLost, or EVDeparted when only the (inferred) parking bay stops the transaction. */
  private unplugTrigger(type: EventType): SessionTrigger {
    const p = this.points('TxCtrlr.TxStopPoint');
    return type === 'Ended' && p.has('ParkingBayOccupancy') && !p.has('EVConnected') ? 'EVDeparted' : 'EVCommunicationLost';
  }

  onSession(ev: SessionEvent): void {
    // A new session on an EVSE whose previous transaction still waits for its cable: that one is over.
    if (ev.type === 'started') this.endWaiting(ev.session.evseId, ev.session.id, ev.trigger, ev.at);
    this.transition(ev);
    // A remote start that never became a transaction must not mark the next one.
    if (ev.type === 'ended') this.remoteStarts.delete(ev.session.evseId);
  }

  /** E06.FR.02: the cable of a session that ended with it in has left; its waiting transaction ends. */
  onDeparted(ev: SessionEvent): void {
    const row = this.ctx.txRepo.get(ev.session.id);
    if (!row?.started || row.ended) return;
    this.emit('Ended', ev.session, this.unplugTrigger('Ended'), ev.at, { stopToken: false });
  }

  /**
   * B12.FR.04 / E06: a reset ends the transactions still waiting for their cable before the restart
   * (ResetCommand, like the station's own sessions), rather than as AbnormalCondition at the next start.
   */
  private endAllWaiting(kind: 'HardReset' | 'SoftReset' | 'Immediate'): void {
    const reason: StopReason = kind === 'Immediate' ? 'ImmediateReset' : kind;
    for (const id of [...this.holding.keys()]) {
      const s = this.ctx.station.findSession(id);
      if (s && this.isStarted(id)) this.emit('Ended', s, 'ResetCommand', this.ctx.clock.now(), { stopToken: false, reason });
    }
  }

  /** Per EVSE, the limit the CSMS last heard of: the one in force when its transaction started, then each one told. */
  private readonly limitKnown = new Map<number, number>();

  /**
   * SC.02 / SC.03 (and K11.FR.04, K13.FR.03 for external limits): a change of an EVSE's limit during its
   * transaction by at least SmartChargingCtrlr.LimitChangeSignificance percent of the limit last told is
   * sent as TransactionEvent(Updated, ChargingRateChanged); smaller steps add up until they are significant.
   */
  private onLimit(evseId: number, amps: number): void {
    const s = this.ctx.station.session(evseId);
    if (!s || !this.isStarted(s.id)) {
      this.limitKnown.set(evseId, amps);
      return;
    }
    // Unknown: no limit was ever told on this EVSE, so it was the hardware maximum the adapter does not know.
    const known = this.limitKnown.get(evseId);
    const significance = Number(this.ctx.dm.value('SmartChargingCtrlr.LimitChangeSignificance')) || 0;
    if (known !== undefined && !changedBy(known, amps, significance)) return;
    this.limitKnown.set(evseId, amps);
    this.emit('Updated', s, 'ChargingRateChanged', this.ctx.clock.now(), {});
  }

  private endWaiting(evseId: number, exceptId: string, trigger: SessionTrigger, at: number): void {
    for (const row of this.ctx.txRepo.open()) {
      if (row.evseId !== evseId || row.transactionId === exceptId) continue;
      const s = this.ctx.station.findSession(row.transactionId);
      if (s && s.endedAt !== undefined) this.emit('Ended', s, trigger, at, { stopToken: false });
    }
  }

  private transition(ev: SessionEvent): void {
    // The station tells the unplug before the charging state that follows from it: without a cable it is Idle.
    const s: Session = ev.type === 'ev-disconnected' ? { ...ev.session, chargingState: 'Idle' } : ev.session;
    const row = this.ctx.txRepo.get(s.id);
    if (row?.ended) return;
    const started = row?.started ?? false;
    const ends = ev.type === 'ended' || this.stopReached(ev);
    const trigger = ev.trigger === 'EVDeparted' ? this.unplugTrigger(ends ? 'Ended' : 'Updated') : ev.trigger;

    if (!started) {
      // A session that ends before it ever reached the start point has no OCPP transaction, unless it was
      // cut by a power loss: it is reported as Started then Ended if the start point had been reached.
      const cutByPowerLoss = ev.type === 'ended' && s.stoppedReason === 'PowerLoss' && s.evConnectedAt !== undefined && s.authorizedAt !== undefined;
      if (!this.startReached(s) && !cutByPowerLoss) return;
      // TC_E_12_CS: without a bay detector the bay is taken to be occupied when the cable comes in.
      const bay = trigger === 'CablePluggedIn' && this.points('TxCtrlr.TxStartPoint').has('ParkingBayOccupancy');
      this.emit('Started', s, bay ? 'EVDetected' : trigger, ev.at, {});
      if (ends) this.emit('Ended', s, trigger, ev.at, {});
      return;
    }
    if (this.waitsForCable(ev)) {
      // B12: a Reset OnIdle waits for the Ended of this transaction, not only for the station's session.
      this.holding.set(s.id, s.evseId);
      this.ctx.station.holdIdle?.(s.evseId, true);
      if (ev.trigger === 'Deauthorized') {
        // The deauthorization was told with its own fact already: only the charging state may be news.
        if (this.lastState.get(s.id) !== s.chargingState) this.emit('Updated', s, 'ChargingStateChanged', ev.at, {});
        return;
      }
      // E07.FR.02: the idToken that ended the authorization goes with this event, not again with Ended.
      this.emit('Updated', s, trigger, ev.at, { stopToken: true });
      return;
    }
    if (ends) {
      const byEv = ev.type === 'charging-state' && s.chargingState === 'SuspendedEV' && s.stoppedReason === undefined;
      this.emit('Ended', s, trigger, ev.at, byEv ? { reason: 'StoppedByEV' } : {});
      return;
    }
    if (ev.type === 'started') return;
    // Power-path and charging-state events only matter when the charging state they carry changed.
    const quiet = ev.type === 'power-path-closed' || ev.type === 'power-path-opened' || ev.type === 'charging-state';
    if (quiet && this.lastState.get(s.id) === s.chargingState) return;
    this.emit('Updated', s, trigger, ev.at, {});
  }

  onMeter(sample: MeterSample): void {
    if (sample.sessionId) this.lastSample.set(sample.sessionId, sample);
    const s = sample.sessionId ? this.ctx.station.findSession(sample.sessionId) : this.ctx.station.session(sample.evseId);
    const inTx = s !== undefined && this.isStarted(s.id);
    if (sample.context === 'Sample.Periodic' && inTx) this.collectForEnded(s.id, sample);
    if (sample.context === 'Sample.Periodic' && inTx) {
      const mv = this.metering.meterValue(sample, 'SampledDataCtrlr.TxUpdatedMeasurands');
      this.emit('Updated', s, 'MeterValuePeriodic', sample.reading.at, { meterValue: mv ? [mv] : undefined });
    } else if (sample.context === 'Sample.Clock') {
      if (inTx) {
        const mv = this.metering.meterValue(sample, 'AlignedDataCtrlr.Measurands');
        this.emit('Updated', s, 'MeterValueClock', sample.reading.at, { meterValue: mv ? [mv] : undefined });
      } else if (!this.ctx.dm.bool('AlignedDataCtrlr.SendDuringIdle') || !this.ctx.station.sessions().length) {
        void this.metering.sendMeterValues(sample);
      }
    }
  }

  /**
   * J02 TxEndedInterval: periodic samples kept for the Ended event, at most one per interval. They come
   * from the station's periodic sampling, so they are as dense as TxUpdatedInterval at best.
   */
  private collectForEnded(sessionId: string, sample: MeterSample): void {
    const every = this.ctx.dm.int('SampledDataCtrlr.TxEndedInterval') * 1000;
    if (every <= 0) return;
    const kept = this.endedSamples.get(sessionId) ?? [];
    const lastAt = kept.at(-1)?.at ?? -Infinity;
    if (sample.reading.at - lastAt < every) return;
    const mv = this.metering.meterValue(sample, 'SampledDataCtrlr.TxEndedMeasurands');
    if (!mv) return;
    kept.push({ at: sample.reading.at, mv });
    this.endedSamples.set(sessionId, kept);
  }
  private readonly endedSamples = new Map<string, { at: number; mv: MeterValue }[]>();

  /**
   * Open transactions of an EVSE (or all): those of running sessions and those whose session ended but
   * that wait for the cable (snapshot of the ended session).
   */
  openTransactions(evseId?: number): Session[] {
    const live = this.ctx.station.sessions().filter((s) => this.isStarted(s.id));
    const waiting = [...this.holding.keys()]
      .filter((id) => !live.some((s) => s.id === id) && this.isStarted(id))
      .map((id) => this.ctx.station.findSession(id))
      .filter((s): s is Session => s !== undefined);
    return [...live, ...waiting].filter((s) => evseId === undefined || s.evseId === evseId);
  }

  /** Is this a transaction that only waits for its cable (energy already off)? */
  isWaiting(transactionId: string): boolean {
    return this.holding.has(transactionId) && this.isStarted(transactionId);
  }

  /**
   * F03.FR.02 for a transaction already waiting for its cable: the energy is off since its stop, so the
   * remote stop is only told (Updated RemoteStop); the transaction still ends at the unplug, with the
   * stoppedReason of the first stop.
   */
  remoteStopWaiting(transactionId: string): void {
    const s = this.ctx.station.findSession(transactionId);
    if (!s || !this.isWaiting(transactionId)) return;
    this.emit('Updated', s, 'RemoteStop', this.ctx.clock.now(), { stopToken: false });
  }

  /** F06.FR.07: TransactionEvent(Updated, Trigger) for the open transactions of an EVSE (or all), waiting ones included. */
  trigger(evseId: number | undefined): boolean {
    const txs = this.openTransactions(evseId);
    for (const s of txs) {
      const last = this.lastSample.get(s.id);
      const mv = last ? this.metering.meterValue(last, 'SampledDataCtrlr.TxUpdatedMeasurands', 'Trigger') : undefined;
      this.lastState.delete(s.id); // F06.FR.07: at least the chargingState
      this.emit('Updated', s, 'Trigger', this.ctx.clock.now(), { meterValue: mv ? [mv] : undefined });
    }
    return txs.length > 0;
  }

  private emit(type: EventType, s: Session, trigger: SessionTrigger, at: number, extra: EmitExtra): void {
    const row = this.ctx.txRepo.get(s.id);
    const first = !row?.started;
    const info: TransactionType = { transactionId: s.id };
    if (this.lastState.get(s.id) !== s.chargingState || type !== 'Updated') {
      info.chargingState = s.chargingState;
      this.lastState.set(s.id, s.chargingState);
    }
    if (type === 'Ended') info.stoppedReason = toReason(extra.reason ?? s.stoppedReason ?? reasonOfTrigger(trigger));
    const remoteStartId = this.remoteStarts.get(s.evseId);
    if (remoteStartId !== undefined && type !== 'Ended') {
      this.remoteStarts.delete(s.evseId);
      info.remoteStartId = remoteStartId;
      trigger = 'RemoteStart';
    } else if (s.remoteStartId !== undefined && first) {
      info.remoteStartId = s.remoteStartId; // F02.FR.01
    }

    const payload: TransactionEventRequest = {
      eventType: type,
      timestamp: this.ctx.iso(at),
      triggerReason: trigger,
      seqNo: 0,
      transactionInfo: info,
    };
    // E11–E13: offline marks events that happened while the CSMS could not be told.
    if (!this.ctx.link.connected) payload.offline = true;
    if (first) {
      payload.evse = { id: s.evseId, connectorId: s.connectorId };
      if (s.reservationId !== undefined) payload.reservationId = s.reservationId;
    }
    let idTokenSent = false;
    if (s.idToken && s.authorizedAt !== undefined && !row?.idTokenSent) {
      payload.idToken = { idToken: s.idToken.idToken, type: s.idToken.type };
      idTokenSent = true;
    } else if ((extra.stopToken ?? type === 'Ended') && s.stopIdToken) {
      payload.idToken = { idToken: s.stopIdToken.idToken, type: s.stopIdToken.type };
    }
    const meterValue = extra.meterValue ?? this.boundaryValues(type, s, at);
    if (meterValue?.length) payload.meterValue = meterValue;

    this.ctx.deps.db.transaction(() => {
      payload.seqNo = this.ctx.txRepo.nextSeqNo(
        s.id,
        s.evseId,
        s.connectorId,
        { started: type === 'Started' || first, ended: type === 'Ended', idTokenSent },
        this.ctx.clock.now(),
      );
      this.ctx.link.enqueue('TransactionEvent', payload, { txKey: s.id });
    })();
    this.queued.set(s.id, (this.queued.get(s.id) ?? 0) + 1);
    if (type === 'Ended') {
      const held = this.holding.get(s.id);
      if (held !== undefined) {
        this.holding.delete(s.id);
        this.ctx.station.holdIdle?.(held, false);
      }
      this.lastState.delete(s.id);
      this.lastSample.delete(s.id);
      this.endedSamples.delete(s.id);
    }
  }

  /** Transaction.Begin / Transaction.End register values (TxStartedMeasurands / TxEndedMeasurands). */
  private boundaryValues(type: EventType, s: Session, at: number): MeterValue[] | undefined {
    if (type === 'Updated') return undefined;
    const end = this.boundaryValue(type, s, at);
    if (type !== 'Ended') return end ? [end] : undefined;
    const kept = (this.endedSamples.get(s.id) ?? []).map((k) => k.mv);
    const all = end ? [...kept, end] : kept;
    return all.length ? all : undefined;
  }

  private boundaryValue(type: EventType, s: Session, at: number): MeterValue | undefined {
    const key = type === 'Started' ? 'SampledDataCtrlr.TxStartedMeasurands' : 'SampledDataCtrlr.TxEndedMeasurands';
    const context = type === 'Started' ? 'Transaction.Begin' : 'Transaction.End';
    const last = this.lastSample.get(s.id);
    if (last) {
      const reading = type === 'Ended' && s.meterStopWh !== undefined ? { ...last.reading, energyImportWh: s.meterStopWh, at } : last.reading;
      return this.metering.meterValue({ ...last, reading }, key, context);
    }
    const wh = type === 'Started' ? s.meterStartWh : s.meterStopWh;
    if (wh === undefined || !this.ctx.dm.list(key).includes('Energy.Active.Import.Register')) return undefined;
    return {
      timestamp: this.ctx.iso(at),
      sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
    };
  }

  /** C01 / E05: an idToken the CSMS does not accept ends (or suspends) the transaction in the station. */
  private onResult(msg: TxEventMessage, res: TxEventResponse): void {
    const info = res?.idTokenInfo;
    if (!info || !msg.txKey) return;
    const auth: AuthInfo = { status: info.status };
    if (info.groupIdToken) auth.groupId = info.groupIdToken.idToken;
    const token = msg.payload.idToken;
    // C10.FR.05: idTokenInfo in a TransactionEvent response updates the authorization cache too.
    if (token) this.ctx.station.rememberAuth?.(token, auth);
    if (info.status === 'Accepted') return;
    const s = this.ctx.station.findSession(msg.txKey);
    if (!s || s.endedAt !== undefined) return;
    this.ctx.station.deauthorize(s.id, auth);
  }

  private dequeued(msg: Pick<OutboxMessage, 'txKey'>): void {
    const n = msg.txKey ? this.queued.get(msg.txKey) : undefined;
    if (n === undefined) {
      this.backlog = Math.max(0, this.backlog - 1);
      return;
    }
    if (n <= 1) this.queued.delete(msg.txKey!);
    else this.queued.set(msg.txKey!, n - 1);
  }

  /** E14 */
  private getStatus(p: GetTransactionStatusRequest): GetTransactionStatusResponse {
    // E14.FR.06-08: without a transactionId, any queued transaction message counts.
    if (!p.transactionId) return { messagesInQueue: this.ctx.link.pendingCount() > 0 };
    const row = this.ctx.txRepo.get(p.transactionId);
    const ongoing = !!row && row.started && !row.ended;
    // Messages from before a restart are not attributed; while any remain, they may be this transaction's.
    const queued = (this.queued.get(p.transactionId) ?? 0) > 0 || (this.backlog > 0 && !!row);
    return { ongoingIndicator: ongoing, messagesInQueue: queued };
  }
}
