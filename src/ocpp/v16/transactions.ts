/**
 * 1.6 transactions (spec 4.8, 4.10, 3.7) and transaction meter values (4.7, 3.16).
 *
 * A 1.6 transaction starts when a session is both authorized and has the EV connected. Every
 * transaction message goes through the durable outbox with the session id as txKey: StartTransaction
 * first; its answer gives the transactionId (persisted in v16_transactions). MeterValues and
 * StopTransaction are queued with transactionId -1 as a placeholder and the queued-message preparer
 * writes the real id just before sending. The outbox sends in order and waits for each answer, so
 * they always go after their StartTransaction was answered. Time-outs and disconnects never count
 * as attempts, so a Start is only given up when the CSMS refused it TransactionMessageAttempts times
 * (CALLERRORs); then, and only then, -1 stays (errata 3.18), so the queue is not blocked.
 *
 * A session recovered after a power cut arrives as 'ended' (PowerLoss): StartTransaction is queued
 * first if it never went out, then StopTransaction.
 *
 * Each transaction has one record (tx-record.ts), rebuilt from v16_transactions at start.
 *
 * Time: the queued messages (StartTransaction, MeterValues, StopTransaction and its transactionData)
 * keep station time and their preparers tell them in the CSMS's time when they are sent. Nothing queued
 * goes out before an accepted BootNotification, which gives that time, so a message queued before it
 * (the Start / Stop of a session a power cut left open) or in an earlier run carries the CSMS's time too.
 */
import type { MeterSample, Session, SessionEvent, StopReason, AuthInfo } from '../../station/api.js';
import type { MeterReading } from '../../station/api.js';
import { V16TransactionRepo } from '../../store/v16-transactions.js';
import type { OutboxMessage } from '../link.js';
import type { QueuedMessage } from '../messages/typed-link.js';
import type {
  MeterValuesRequest,
  StartTransactionRequest,
  StartTransactionResponse,
  StopTransactionRequest,
  V16Messages,
} from '../messages/v16.js';
import { connectorOf, type V16Block, type V16Context } from './context.js';
import { parseMeasurandList, type MeasurandItem } from './measurands.js';
import { meterValue, thin, type MeterValue, type ReadingContext } from './meter-values.js';
import { V16TxRecords, type V16Tx } from './tx-record.js';

export type V16Reason =
  | 'EmergencyStop'
  | 'EVDisconnected'
  | 'HardReset'
  | 'Local'
  | 'Other'
  | 'PowerLoss'
  | 'Reboot'
  | 'Remote'
  | 'SoftReset'
  | 'UnlockCommand'
  | 'DeAuthorized';

/** Station StopReason → 1.6 Reason (7.36). Reasons 1.6 lacks become Other, except the obvious ones. */
export function stopReason(r: StopReason | undefined): V16Reason {
  switch (r) {
    case 'EmergencyStop':
    case 'EVDisconnected':
    case 'HardReset':
    case 'Local':
    case 'PowerLoss':
    case 'Reboot':
    case 'Remote':
    case 'SoftReset':
    case 'UnlockCommand':
    case 'DeAuthorized':
    case 'Other':
      return r;
    case 'ImmediateReset':
      return 'HardReset';
    case 'MasterPass':
      return 'Local';
    case undefined:
      return 'Local';
    default:
      return 'Other';
  }
}

export interface IdTagInfo {
  status: 'Accepted' | 'Blocked' | 'Expired' | 'Invalid' | 'ConcurrentTx';
  expiryDate?: string;
  parentIdTag?: string;
}

export function authInfoOf(info: IdTagInfo, fromIso: (iso: string) => number): AuthInfo {
  const a: AuthInfo = { status: info.status };
  if (info.parentIdTag !== undefined) a.groupId = info.parentIdTag;
  if (info.expiryDate !== undefined) a.expiresAt = fromIso(info.expiryDate);
  return a;
}

const PLACEHOLDER_TX_ID = -1;

/** Station time, as the transaction messages are queued (see the file comment). */
const stationIso = (ms: number): string => new Date(ms).toISOString();

/** What other parts of the adapter do with the Central System's answers about idTags. */
export interface TransactionHooks {
  /** Every idTagInfo of Start/StopTransaction.conf (LocalListConflict check). */
  idTagInfo?(idTag: string, info: IdTagInfo, source: 'StartTransaction' | 'StopTransaction'): void;
  /** StartTransaction.conf not Accepted: true when the hook handles it (MaxEnergyOnInvalidId), else the station is deauthorized now. */
  invalidId?(sessionId: string, auth: AuthInfo): boolean;
  /** The StartTransaction of a transaction on this connector was answered, or dead-lettered. */
  startSettled?(connectorId: number): void;
}

export class Transactions {
  /** One record per transaction, rebuilt from v16_transactions. */
  readonly records: V16TxRecords;
  private readonly last = new Map<number, MeterSample>();

  constructor(
    private readonly ctx: V16Context,
    private readonly hooks: TransactionHooks = {},
  ) {
    this.records = new V16TxRecords(new V16TransactionRepo(ctx.db));
  }

  /** Register the outbox callbacks; they also serve messages queued before a restart. */
  attach(): void {
    const { link } = this.ctx;
    this.records.load();
    link.onQueuedResult('StartTransaction', (m, r) => {
      try {
        this.onStartResult(m, r);
      } finally {
        if (m.txKey) this.startSettled(m.txKey);
      }
    });
    link.onQueuedResult('StopTransaction', (m, r) => {
      const info = r.idTagInfo;
      if (info && typeof m.payload.idTag === 'string') {
        this.remember(m.payload.idTag, info);
        this.hooks.idTagInfo?.(m.payload.idTag, info, 'StopTransaction');
      }
      if (m.txKey) this.records.close(m.txKey);
    });
    const idOf = (txKey: string): number => this.records.get(txKey)?.transactionId ?? PLACEHOLDER_TX_ID;
    // Queued in station time, told in the CSMS's time of now (see the file comment).
    const rebase = (iso: string): string => this.ctx.csmsTime.rebaseIso(iso);
    const inCsmsTime = (list: MeterValue[]): MeterValue[] => list.map((mv) => ({ ...mv, timestamp: rebase(mv.timestamp) }));
    link.setQueuedPreparer('StartTransaction', (m) => ({ ...m.payload, timestamp: rebase(m.payload.timestamp) }));
    link.setQueuedPreparer('StopTransaction', (m) => {
      const p: StopTransactionRequest = { ...m.payload, timestamp: rebase(m.payload.timestamp) };
      if (p.transactionData) p.transactionData = inCsmsTime(p.transactionData);
      if (m.txKey) p.transactionId = idOf(m.txKey);
      return p;
    });
    link.setQueuedPreparer('MeterValues', (m) => {
      const p: MeterValuesRequest = { ...m.payload, meterValue: inCsmsTime(m.payload.meterValue) };
      if (m.txKey) p.transactionId = idOf(m.txKey);
      return p;
    });
  }

  /**
   * A StopTransaction the CSMS kept failing (3.7.1) is gone from the outbox: forget the transaction.
   * A dead StartTransaction leaves transactionId unknown, so its later messages carry -1 (errata 3.18).
   */
  onDead(m: OutboxMessage): void {
    if (m.action === 'StopTransaction' && m.txKey) this.records.close(m.txKey);
    if (m.action === 'StartTransaction' && m.txKey) this.startSettled(m.txKey);
  }

  /** Is a StartTransaction of this connector queued and not answered yet (status.ts waits for it)? */
  startPending(connectorId: number): boolean {
    return this.records.all().some((tx) => tx.startPending && tx.connectorId === connectorId);
  }

  private startSettled(sessionId: string): void {
    const tx = this.records.get(sessionId);
    if (!tx?.startPending) return;
    tx.startPending = false;
    // Out of the outbox's SQLite transaction that runs the result handler.
    queueMicrotask(() => this.hooks.startSettled?.(tx.connectorId));
  }

  /** Sessions already running when the adapter starts (or recovered ones). */
  syncRunning(): void {
    for (const s of this.ctx.station.sessions()) if (s.endedAt === undefined) this.maybeStart(s);
  }

  transactionIdOf(sessionId: string): number | undefined {
    return this.records.get(sessionId)?.transactionId ?? undefined;
  }

  sessionOfTransaction(transactionId: number): string | undefined {
    return this.records.byTransactionId(transactionId)?.sessionId;
  }

  lastSample(evseId: number): MeterSample | undefined {
    return this.last.get(evseId);
  }

  onSession(ev: SessionEvent): void {
    if (ev.type === 'ended') this.end(ev.session);
    // 'closed' (the cable left after the end): nothing more to tell in 1.6, the StopTransaction went at 'ended'.
    else if (ev.type !== 'closed') this.maybeStart(ev.session);
  }

  onMeter(sample: MeterSample): void {
    this.last.set(sample.evseId, sample);
    const row = sample.sessionId ? this.records.get(sample.sessionId) : undefined;
    const inTx = row !== undefined && !row.stopQueued;
    const { cfg } = this.ctx;
    let items: MeasurandItem[];
    let stopItems: MeasurandItem[];
    if (sample.context === 'Sample.Periodic') {
      if (!inTx) return;
      items = parseMeasurandList(cfg.get('MeterValuesSampledData'));
      stopItems = parseMeasurandList(cfg.get('StopTxnSampledData'));
    } else if (sample.context === 'Sample.Clock') {
      items = parseMeasurandList(cfg.get('MeterValuesAlignedData'));
      stopItems = parseMeasurandList(cfg.get('StopTxnAlignedData'));
    } else return;
    // Queued in station time (see the file comment); sent at once in the CSMS's time.
    const ts = inTx ? stationIso(sample.reading.at) : this.ctx.iso(sample.reading.at);
    const mv = meterValue(ts, sample.reading, sample.currentOfferedA, items, sample.context);
    const connectorId = connectorOf(sample.evseId);
    if (inTx) {
      const stopMv = meterValue(ts, sample.reading, sample.currentOfferedA, stopItems, sample.context);
      this.ctx.db.transaction(() => {
        if (stopMv) this.records.repo.addData(row.sessionId, stopMv);
        if (mv)
          this.ctx.link.enqueue('MeterValues', { connectorId, transactionId: PLACEHOLDER_TX_ID, meterValue: [mv] }, { txKey: row.sessionId });
      })();
    } else if (mv && this.ctx.registration === 'Accepted') {
      // Clock-aligned values outside a transaction are not transaction-related: sent if online, else dropped.
      this.ctx.link.call('MeterValues', { connectorId, meterValue: [mv] }).catch((err: unknown) => {
        this.ctx.log.debug('MeterValues not delivered', { error: String(err) });
      });
    }
  }

  private qualifies(s: Session): s is Session & { idToken: NonNullable<Session['idToken']> } {
    return s.authorizedAt !== undefined && s.evConnectedAt !== undefined && s.idToken !== undefined;
  }

  private maybeStart(s: Session): V16Tx | undefined {
    if (!this.qualifies(s)) return undefined;
    const existing = this.records.get(s.id);
    if (existing) return existing;
    const startedAt = Math.max(s.authorizedAt!, s.evConnectedAt!);
    const lastReading = this.last.get(s.evseId)?.reading;
    const meterStart = Math.round(s.meterStartWh ?? lastReading?.energyImportWh ?? 0);
    const req: StartTransactionRequest = {
      connectorId: connectorOf(s.evseId),
      idTag: s.idToken.idToken,
      meterStart,
      timestamp: stationIso(startedAt),
    };
    if (s.reservationId !== undefined) req.reservationId = s.reservationId;
    const row = { sessionId: s.id, connectorId: connectorOf(s.evseId), idTag: s.idToken.idToken, meterStart, startedAt };
    const begin = this.boundaryValue(s.evseId, meterStart, startedAt, 'Transaction.Begin');
    const tx = this.records.create(row);
    this.ctx.db.transaction(() => {
      this.records.repo.insert(row);
      if (begin) this.records.repo.addData(s.id, begin);
      this.ctx.link.enqueue('StartTransaction', req, { txKey: s.id });
    })();
    this.records.hold(tx);
    this.ctx.log.info('StartTransaction queued', { sessionId: s.id, connectorId: row.connectorId });
    return tx;
  }

  private end(s: Session): void {
    const row = this.records.get(s.id) ?? this.maybeStart(s);
    if (!row || row.stopQueued) return;
    const endedAt = s.endedAt ?? this.ctx.clock.now();
    const lastReading = this.last.get(s.evseId)?.reading;
    const meterStop = Math.max(row.meterStart, Math.round(s.meterStopWh ?? lastReading?.energyImportWh ?? row.meterStart));
    const req: StopTransactionRequest = {
      transactionId: PLACEHOLDER_TX_ID,
      meterStop,
      timestamp: stationIso(endedAt),
      reason: stopReason(s.stoppedReason),
    };
    const idTag = s.stopIdToken?.idToken ?? (req.reason === 'Local' ? s.idToken?.idToken : undefined);
    if (idTag !== undefined) req.idTag = idTag;
    this.ctx.db.transaction(() => {
      const endValue = this.boundaryValue(s.evseId, meterStop, endedAt, 'Transaction.End');
      const data = this.records.repo.data(s.id) as MeterValue[];
      if (endValue && data.length > 0) data.push(endValue);
      if (data.length > 0) req.transactionData = thin(data, this.ctx.cfg.int('StopTransactionMaxMeterValues'));
      this.ctx.link.enqueue('StopTransaction', req, { txKey: s.id });
      this.records.repo.markStopQueued(s.id);
      this.records.repo.clearData(s.id);
    })();
    row.stopQueued = true;
    this.ctx.log.info('StopTransaction queued', { sessionId: s.id, reason: req.reason });
  }

  /**
   * Transaction.Begin / .End values for transactionData (errata 3.16.6), only when StopTxnSampledData
   * asks for sampled data. Energy is the meterStart / meterStop register; other measurands come from
   * the latest reading, and are left out when there is none.
   */
  private boundaryValue(evseId: number, energyWh: number, at: number, context: ReadingContext): MeterValue | undefined {
    let items = parseMeasurandList(this.ctx.cfg.get('StopTxnSampledData'));
    if (items.length === 0) return undefined;
    const last = this.last.get(evseId);
    const reading: MeterReading = last
      ? { ...last.reading, energyImportWh: energyWh, at }
      : { at, energyImportWh: energyWh, powerW: 0, currentA: {}, voltageV: {} };
    if (!last) items = items.filter((i) => i.measurand.startsWith('Energy.'));
    return meterValue(stationIso(at), reading, last?.currentOfferedA ?? 0, items, context);
  }

  /** 3.5.1: idTagInfo of Start/StopTransaction.conf updates the authorization cache. */
  private remember(idTag: string, info: IdTagInfo): void {
    this.ctx.station.rememberAuth?.({ idToken: idTag, type: 'ISO14443' }, authInfoOf(info, this.ctx.fromIso));
  }

  private onStartResult(m: QueuedMessage<V16Messages, 'StartTransaction'>, conf: StartTransactionResponse): void {
    const tx = m.txKey ? this.records.get(m.txKey) : undefined;
    if (!m.txKey) return;
    if (tx) this.records.setTransactionId(tx, conf.transactionId);
    if (typeof m.payload.idTag === 'string') {
      this.remember(m.payload.idTag, conf.idTagInfo);
      this.hooks.idTagInfo?.(m.payload.idTag, conf.idTagInfo, 'StartTransaction');
    }
    this.ctx.log.info('StartTransaction answered', { sessionId: m.txKey, transactionId: conf.transactionId, status: conf.idTagInfo.status });
    if (conf.idTagInfo.status !== 'Accepted') {
      const s = this.ctx.station.findSession(m.txKey);
      const auth = authInfoOf(conf.idTagInfo, this.ctx.fromIso);
      // Spec 4.8 / errata 3.17: the station stops (StopTransactionOnInvalidId) or only stops energy,
      // possibly after MaxEnergyOnInvalidId (invalid-id.ts).
      if (s && s.endedAt === undefined && !this.hooks.invalidId?.(m.txKey, auth)) this.ctx.station.deauthorize(m.txKey, auth);
    }
  }
}

/**
 * The transactions block: the outbox callbacks of the transaction messages, the station's session and
 * meter events, the sampling intervals of MeterValueSampleInterval / ClockAlignedDataInterval, and
 * MaxEnergyOnInvalidId (invalid-id.ts).
 */
export const transactionsBlock: V16Block = {
  name: 'tx',
  register(ctx) {
    const { station, cfg } = ctx;
    const { tx, invalidId } = ctx.parts;
    station.setSampleInterval(cfg.int('MeterValueSampleInterval'));
    station.setAlignedInterval(cfg.int('ClockAlignedDataInterval'));
    ctx.subs.add(
      cfg.onChange((key) => {
        if (key === 'MeterValueSampleInterval') station.setSampleInterval(cfg.int(key));
        if (key === 'ClockAlignedDataInterval') station.setAlignedInterval(cfg.int(key));
      }),
    );
    tx.attach();
    ctx.onLink('message-dead', (m) => tx.onDead(m));
    ctx.onStation('session', (e) => {
      if (e.type === 'ended') invalidId.forget(e.session.id);
      tx.onSession(e);
    });
    ctx.onStation('meter', (m) => {
      tx.onMeter(m);
      invalidId.onMeter(m);
    });
    ctx.subs.add(() => invalidId.stop());
    tx.syncRunning();
  },
};
