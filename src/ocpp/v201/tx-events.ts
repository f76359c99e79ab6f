/**
 * The TransactionEvent builder (E01–E14): one event of a transaction from the station's session, its
 * seqNo taken and committed in the same SQLite transaction as the enqueue (gapless across restarts),
 * and the transaction's record (tx-record.ts) brought up to date once it is queued.
 *
 * Time: a queued event keeps station time (its timestamp and its meter values), and the outbox's
 * preparer tells it in the CSMS's time when it is sent (`inCsmsTime`). Nothing queued goes out before a
 * BootNotification answer (B01.FR.08), which gives the CSMS's time, so an event made before it in this
 * run (the Ended of a session a power cut left open) or in an earlier run carries the CSMS's time too.
 */
import type { MeterSample, Session, SessionTrigger, StopReason } from '../../station/api.js';
import type { TransactionEventEnumType, TransactionEventRequest, TransactionType } from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { MeterValue, Metering } from './metering.js';
import { reasonOfTrigger, toReason } from './tx-points.js';
import type { V201Tx, V201TxRecords } from './tx-record.js';

type EventType = TransactionEventEnumType;

export interface EmitExtra {
  meterValue?: MeterValue[] | undefined;
  /** Send the stopping idToken (default: on Ended). */
  stopToken?: boolean;
  /** stoppedReason when the session carries none that fits. */
  reason?: StopReason;
}

/** Station time as queued (see the file comment). */
export const stationIso = (ms: number): string => new Date(ms).toISOString();

/** A queued TransactionEvent (station time) as the CSMS's time: its timestamp and its meter values' timestamps. */
export function inCsmsTime(p: TransactionEventRequest, rebase: (stationIso: string) => string): TransactionEventRequest {
  const out: TransactionEventRequest = { ...p, timestamp: rebase(p.timestamp) };
  if (p.meterValue) out.meterValue = p.meterValue.map((mv) => ({ ...mv, timestamp: rebase(mv.timestamp) }));
  return out;
}

export class TxEvents {
  /** remoteStartId per EVSE, until the next TransactionEvent of that EVSE has told it (F01.FR.19/25, F02.FR.21). */
  readonly remoteStarts = new Map<number, number>();
  /** Per EVSE, the last sample of its session while that session has no transaction yet (Started's Transaction.Begin). */
  readonly sessionSamples = new Map<number, MeterSample>();
  /** Per EVSE, its limit now: what a transaction starting there counts as told (SC.02). */
  readonly limits = new Map<number, number>();
  /** Called when the Ended of a transaction that waited for its cable was queued. */
  onWaitingOver: (() => void) | undefined;

  constructor(
    private readonly ctx: V201Context,
    private readonly records: V201TxRecords,
    private readonly metering: Metering,
  ) {}

  emit(type: EventType, s: Session, trigger: SessionTrigger, at: number, extra: EmitExtra): void {
    const rec = this.records.get(s.id);
    const first = rec === undefined;
    const info: TransactionType = { transactionId: s.id };
    const tellState = rec?.lastState !== s.chargingState || type !== 'Updated';
    if (tellState) info.chargingState = s.chargingState;
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
      timestamp: stationIso(at),
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
    if (s.idToken && s.authorizedAt !== undefined && !rec?.idTokenSent) {
      payload.idToken = { idToken: s.idToken.idToken, type: s.idToken.type };
      idTokenSent = true;
    } else if ((extra.stopToken ?? type === 'Ended') && s.stopIdToken) {
      payload.idToken = { idToken: s.stopIdToken.idToken, type: s.stopIdToken.type };
    }
    const lastSample = rec ? rec.lastSample : this.sessionSample(s);
    const meterValue = extra.meterValue ?? this.boundaryValues(type, s, at, lastSample, rec?.endedSamples ?? []);
    if (meterValue?.length) payload.meterValue = meterValue;

    const marks = { started: type === 'Started' || first, ended: type === 'Ended', idTokenSent };
    let seqNo = 0;
    this.ctx.deps.db.transaction(() => {
      seqNo = this.records.nextSeqNo(s, marks, this.ctx.clock.now());
      payload.seqNo = seqNo;
      this.ctx.link.enqueue('TransactionEvent', payload, { txKey: s.id });
    })();
    const tx = this.records.commit(s, seqNo, marks, { limitTold: this.limits.get(s.evseId), lastSample });
    if (tellState) tx.lastState = s.chargingState;
    if (type === 'Ended') this.ended(tx);
  }

  /** A TransactionEvent's meter value of a sample, in station time like the event (see the file comment). */
  meterValue(sample: MeterSample, measurandsKey: string, context = sample.context): MeterValue | undefined {
    return this.metering.meterValue(sample, measurandsKey, context, stationIso);
  }

  private ended(tx: V201Tx): void {
    const waited = tx.waiting;
    tx.waiting = false;
    tx.lastState = undefined;
    tx.lastSample = undefined;
    tx.endedSamples = [];
    if (waited) this.onWaitingOver?.();
  }

  private sessionSample(s: Session): MeterSample | undefined {
    const sample = this.sessionSamples.get(s.evseId);
    return sample?.sessionId === s.id ? sample : undefined;
  }

  /** Transaction.Begin / Transaction.End register values (TxStartedMeasurands / TxEndedMeasurands). */
  private boundaryValues(
    type: EventType,
    s: Session,
    at: number,
    last: MeterSample | undefined,
    endedSamples: V201Tx['endedSamples'],
  ): MeterValue[] | undefined {
    if (type === 'Updated') return undefined;
    const end = this.boundaryValue(type, s, at, last);
    if (type !== 'Ended') return end ? [end] : undefined;
    const kept = endedSamples.map((k) => k.mv);
    const all = end ? [...kept, end] : kept;
    return all.length ? all : undefined;
  }

  private boundaryValue(type: EventType, s: Session, at: number, last: MeterSample | undefined): MeterValue | undefined {
    const key = type === 'Started' ? 'SampledDataCtrlr.TxStartedMeasurands' : 'SampledDataCtrlr.TxEndedMeasurands';
    const context = type === 'Started' ? 'Transaction.Begin' : 'Transaction.End';
    if (last) {
      const reading = type === 'Ended' && s.meterStopWh !== undefined ? { ...last.reading, energyImportWh: s.meterStopWh, at } : last.reading;
      return this.meterValue({ ...last, reading }, key, context);
    }
    const wh = type === 'Started' ? s.meterStartWh : s.meterStopWh;
    if (wh === undefined || !this.ctx.dm.list(key).includes('Energy.Active.Import.Register')) return undefined;
    return {
      timestamp: stationIso(at),
      sampledValue: [{ value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
    };
  }
}
