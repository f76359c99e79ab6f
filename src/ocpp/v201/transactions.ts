/**
 * E01–E14: TransactionEvent Started / Updated / Ended from the station's session events, with
 * TxStartPoint / TxStopPoint of TxCtrlr deciding where the OCPP transaction lies inside a session
 * (tx-points.ts). Each open transaction has one record (tx-record.ts); tx-events.ts builds and queues
 * its events. Every event goes through the durable outbox; its seqNo is taken and committed in the same
 * SQLite transaction as the enqueue, so seqNo stays gapless per transaction across restarts.
 * The transactionId is the station session id.
 */
import type { AuthInfo, MeterSample, Session, SessionEvent, SessionTrigger, StopReason } from '../../station/api.js';
import type { OutboxMessage } from '../link.js';
import type { QueuedMessage } from '../messages/typed-link.js';
import type {
  GetTransactionStatusRequest,
  GetTransactionStatusResponse,
  TransactionEventResponse,
  V201Messages,
} from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { Metering } from './metering.js';
import { TxEvents, inCsmsTime, type EmitExtra } from './tx-events.js';
import { TxPoints } from './tx-points.js';
import { V201TxRecords, type V201Tx } from './tx-record.js';

export { toReason } from './tx-points.js';

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
  /** The open transactions, one record each. */
  readonly records: V201TxRecords;
  private readonly points: TxPoints;
  private readonly events: TxEvents;

  constructor(
    private readonly ctx: V201Context,
    private readonly metering: Metering,
  ) {
    this.records = new V201TxRecords(ctx.txRepo);
    this.points = new TxPoints(ctx.dm);
    this.events = new TxEvents(ctx, this.records, metering);
  }

  /** When the link last went down; messages queued before it were in the queue while offline (E11.FR.07). */
  private wentOfflineAt = -Infinity;
  /** Messages queued before this start, of transactions not known here: counted as "some queued". */
  private backlog = 0;

  register(): void {
    // The transactions a restart left open, as the store has them (seqNo, idToken sent).
    this.records.load();
    // A message still queued from before this start was in the queue when the station went down.
    this.wentOfflineAt = this.ctx.clock.now();
    this.backlog = this.ctx.link.pendingCount();
    this.ctx.onStation('session', (ev) => this.onSession(ev));
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
    this.ctx.link.setQueuedPreparer('TransactionEvent', (m) => {
      // Queued in station time; told in the CSMS's time now (B01.FR.06, see tx-events.ts).
      const p = inCsmsTime(m.payload, (iso) => this.ctx.rebaseIso(iso));
      // E11.FR.07: every message still queued when the connection went away is sent with offline=true.
      return p.offline !== true && m.createdAt <= this.wentOfflineAt ? { ...p, offline: true } : p;
    });
    this.ctx.handle('GetTransactionStatus', (p) => this.getStatus(p));
  }

  /** Transactions whose Ended was never queued but whose session ended or is gone (missed events). */
  recover(): void {
    for (const tx of this.records.open()) {
      const s = this.ctx.station.findSession(tx.id);
      if (s && s.endedAt === undefined) continue;
      const session: Session = s ?? {
        id: tx.id,
        evseId: tx.evseId,
        connectorId: tx.connectorId,
        startedAt: this.ctx.clock.now(),
        powerPathClosed: false,
        chargingState: 'Idle',
        stoppedReason: 'PowerLoss',
      };
      this.emit('Ended', session, 'AbnormalCondition', this.ctx.clock.now(), {});
    }
  }

  remoteStartRequested(evseId: number, remoteStartId: number | undefined): void {
    if (remoteStartId === undefined) this.events.remoteStarts.delete(evseId);
    else this.events.remoteStarts.set(evseId, remoteStartId);
  }

  isStarted(sessionId: string): boolean {
    return this.records.isOpen(sessionId);
  }

  onSession(ev: SessionEvent): void {
    // The session's cable left (or another session took the EVSE): a transaction waiting for it ends.
    if (ev.type === 'closed') return this.onDeparted(ev);
    // A new session on an EVSE whose previous transaction still waits for its cable: that one is over.
    if (ev.type === 'started') this.endWaiting(ev.session.evseId, ev.session.id, ev.trigger, ev.at);
    this.transition(ev);
    // A remote start that never became a transaction must not mark the next one.
    if (ev.type === 'ended') this.events.remoteStarts.delete(ev.session.evseId);
  }

  /** E06.FR.02: the cable of a session that ended with it in has left (its 'closed' milestone); its waiting transaction ends. */
  onDeparted(ev: SessionEvent): void {
    if (!this.records.isOpen(ev.session.id)) return;
    const trigger = ev.trigger === 'EVDeparted' ? this.points.unplugTrigger('Ended') : ev.trigger;
    this.emit('Ended', ev.session, trigger, ev.at, { stopToken: false });
  }

  /** Called when the last transaction waiting for its cable ended (a Scheduled Reset OnIdle may go now). */
  set onWaitingOver(fn: (() => void) | undefined) {
    this.events.onWaitingOver = fn;
  }

  /** Does a transaction wait for its cable (on this EVSE, or any)? Such an EVSE is not idle for a Reset OnIdle (B12). */
  hasWaiting(evseId?: number): boolean {
    return this.records.open().some((tx) => tx.waiting && (evseId === undefined || tx.evseId === evseId));
  }

  /**
   * B12.FR.04 / E06: a reset ends the transactions still waiting for their cable before the restart
   * (ResetCommand, like the station's own sessions), rather than as AbnormalCondition at the next start.
   */
  private endAllWaiting(kind: 'HardReset' | 'SoftReset' | 'Immediate'): void {
    const reason: StopReason = kind === 'Immediate' ? 'ImmediateReset' : kind;
    for (const tx of this.records.open().filter((t) => t.waiting)) {
      const s = this.ctx.station.findSession(tx.id);
      if (s) this.emit('Ended', s, 'ResetCommand', this.ctx.clock.now(), { stopToken: false, reason });
    }
  }

  /**
   * SC.02 / SC.03 (and K11.FR.04, K13.FR.03 for external limits): a change of an EVSE's limit during its
   * transaction by at least SmartChargingCtrlr.LimitChangeSignificance percent of the limit last told is
   * sent as TransactionEvent(Updated, ChargingRateChanged); smaller steps add up until they are significant.
   * A transaction starts knowing the limit in force on its EVSE then.
   */
  private onLimit(evseId: number, amps: number): void {
    this.events.limits.set(evseId, amps);
    const s = this.ctx.station.session(evseId);
    const tx = s && this.records.isOpen(s.id) ? this.records.get(s.id) : undefined;
    if (!s || !tx) return;
    // Unknown: no limit was ever told on this EVSE, so it was the hardware maximum the adapter does not know.
    const known = tx.limitTold;
    const significance = Number(this.ctx.dm.value('SmartChargingCtrlr.LimitChangeSignificance')) || 0;
    if (known !== undefined && !changedBy(known, amps, significance)) return;
    tx.limitTold = amps;
    this.emit('Updated', s, 'ChargingRateChanged', this.ctx.clock.now(), {});
  }

  private endWaiting(evseId: number, exceptId: string, trigger: SessionTrigger, at: number): void {
    for (const tx of this.records.open()) {
      if (tx.evseId !== evseId || tx.id === exceptId) continue;
      const s = this.ctx.station.findSession(tx.id);
      if (s && s.endedAt !== undefined) this.emit('Ended', s, trigger, at, { stopToken: false });
    }
  }

  private transition(ev: SessionEvent): void {
    // The station tells the unplug before the charging state that follows from it: without a cable it is Idle.
    const s: Session = ev.type === 'ev-disconnected' ? { ...ev.session, chargingState: 'Idle' } : ev.session;
    if (this.records.hasEnded(s.id)) return;
    const tx = this.records.get(s.id);
    const ends = ev.type === 'ended' || this.points.stopReached(ev, tx?.lastState);
    const trigger = ev.trigger === 'EVDeparted' ? this.points.unplugTrigger(ends ? 'Ended' : 'Updated') : ev.trigger;

    if (!tx) {
      // A session that ends before it ever reached the start point has no OCPP transaction, unless it was
      // cut by a power loss: it is reported as Started then Ended if the start point had been reached.
      const cutByPowerLoss = ev.type === 'ended' && s.stoppedReason === 'PowerLoss' && s.evConnectedAt !== undefined && s.authorizedAt !== undefined;
      if (!this.points.startReached(s) && !cutByPowerLoss) return;
      // TC_E_12_CS: without a bay detector the bay is taken to be occupied when the cable comes in.
      const bay = trigger === 'CablePluggedIn' && this.points.startsAtBay();
      this.emit('Started', s, bay ? 'EVDetected' : trigger, ev.at, {});
      if (ends) this.emit('Ended', s, trigger, ev.at, {});
      return;
    }
    if (this.points.waitsForCable(ev)) {
      // B12: a Reset OnIdle waits for the Ended of this transaction, not only for the station's session.
      tx.waiting = true;
      if (ev.trigger === 'Deauthorized') {
        // The deauthorization was told with its own fact already: only the charging state may be news.
        if (tx.lastState !== s.chargingState) this.emit('Updated', s, 'ChargingStateChanged', ev.at, {});
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
    if (quiet && tx.lastState === s.chargingState) return;
    this.emit('Updated', s, trigger, ev.at, {});
  }

  onMeter(sample: MeterSample): void {
    const rec = sample.sessionId ? this.records.get(sample.sessionId) : undefined;
    if (rec) rec.lastSample = sample;
    else if (sample.sessionId) this.events.sessionSamples.set(sample.evseId, sample);
    const s = sample.sessionId ? this.ctx.station.findSession(sample.sessionId) : this.ctx.station.session(sample.evseId);
    const tx = s && this.records.isOpen(s.id) ? this.records.get(s.id) : undefined;
    if (sample.context === 'Sample.Periodic' && s && tx) {
      this.collectForEnded(tx.endedSamples, sample);
      const mv = this.events.meterValue(sample, 'SampledDataCtrlr.TxUpdatedMeasurands');
      this.emit('Updated', s, 'MeterValuePeriodic', sample.reading.at, { meterValue: mv ? [mv] : undefined });
    } else if (sample.context === 'Sample.Clock') {
      if (s && tx) {
        const mv = this.events.meterValue(sample, 'AlignedDataCtrlr.Measurands');
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
  private collectForEnded(kept: V201Tx['endedSamples'], sample: MeterSample): void {
    const every = this.ctx.dm.int('SampledDataCtrlr.TxEndedInterval') * 1000;
    if (every <= 0) return;
    const lastAt = kept.at(-1)?.at ?? -Infinity;
    if (sample.reading.at - lastAt < every) return;
    const mv = this.events.meterValue(sample, 'SampledDataCtrlr.TxEndedMeasurands');
    if (!mv) return;
    kept.push({ at: sample.reading.at, mv });
  }

  /**
   * Open transactions of an EVSE (or all): those of running sessions and those whose session ended but
   * that wait for the cable (snapshot of the ended session).
   */
  openTransactions(evseId?: number): Session[] {
    const live = this.ctx.station.sessions().filter((s) => this.isStarted(s.id));
    const waiting = this.records
      .open()
      .filter((tx) => tx.waiting && !live.some((s) => s.id === tx.id))
      .map((tx) => this.ctx.station.findSession(tx.id))
      .filter((s): s is Session => s !== undefined);
    return [...live, ...waiting].filter((s) => evseId === undefined || s.evseId === evseId);
  }

  /** Is this a transaction that only waits for its cable (energy already off)? */
  isWaiting(transactionId: string): boolean {
    return this.records.isOpen(transactionId) && this.records.get(transactionId)!.waiting;
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
      const tx = this.records.get(s.id)!;
      const last = tx.lastSample;
      const mv = last ? this.events.meterValue(last, 'SampledDataCtrlr.TxUpdatedMeasurands', 'Trigger') : undefined;
      tx.lastState = undefined; // F06.FR.07: at least the chargingState
      this.emit('Updated', s, 'Trigger', this.ctx.clock.now(), { meterValue: mv ? [mv] : undefined });
    }
    return txs.length > 0;
  }

  private emit(type: 'Started' | 'Updated' | 'Ended', s: Session, trigger: SessionTrigger, at: number, extra: EmitExtra): void {
    this.events.emit(type, s, trigger, at, extra);
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
    const tx = msg.txKey ? this.records.get(msg.txKey) : undefined;
    // Messages from before this start are not counted in a record: they come first, off the backlog.
    if (!tx || tx.queued === 0) {
      this.backlog = Math.max(0, this.backlog - 1);
      return;
    }
    this.records.dequeued(tx);
  }

  /** E14 */
  private getStatus(p: GetTransactionStatusRequest): GetTransactionStatusResponse {
    // E14.FR.06-08: without a transactionId, any queued transaction message counts.
    if (!p.transactionId) return { messagesInQueue: this.ctx.link.pendingCount() > 0 };
    const tx = this.records.get(p.transactionId);
    const ongoing = this.records.isOpen(p.transactionId);
    // Messages from before a restart are not attributed; while any remain, they may be this transaction's.
    const known = tx !== undefined || this.ctx.txRepo.get(p.transactionId) !== undefined;
    const queued = (tx?.queued ?? 0) > 0 || (this.backlog > 0 && known);
    return { ongoingIndicator: ongoing, messagesInQueue: queued };
  }
}
