/**
 * One record per open 2.0.1 transaction (in the spirit of libocpp's EnhancedTransaction): everything the
 * adapter remembers about it between two events, in one object held in one map, instead of parallel maps
 * keyed by EVSE or transaction id. A record is created with the transaction's first TransactionEvent
 * (Started), updated by each event, and removed once its Ended is queued and every message it queued in
 * this run was answered or given up (GetTransactionStatus counts those until then).
 *
 * What a restart needs (the seqNo, whether Started / Ended / the idToken went out) stays in
 * v201_transactions (src/store/v201-transactions.ts), written in the same SQLite transaction as the
 * queued event; the records of the transactions still open there are rebuilt from it at start. The rest
 * (the charging state last told, the samples for Ended, the limit last told, the queued count) is of
 * this run only, as before.
 */
import type { MeterSample } from '../../station/api.js';
import type { V201TransactionRepo, V201TxRow } from '../../store/v201-transactions.js';
import type { MeterValue } from './metering.js';

export interface V201Tx {
  /** The transactionId: the station session id. */
  readonly id: string;
  readonly evseId: number;
  readonly connectorId: number;
  /** seqNo of the next TransactionEvent (a mirror of v201_transactions.next_seq_no). */
  seqNo: number;
  /** Was the authorizing idToken sent (it goes once, E03.FR.01)? */
  idTokenSent: boolean;
  /** Ended is queued: the transaction is over, the record waits only for its queued messages. */
  ended: boolean;
  /** chargingState last told (an Updated carries it only when it changed). */
  lastState: string | undefined;
  /** The session ended with the cable in and the transaction waits for the cable (TxStopPoint EVConnected / ParkingBayOccupancy). */
  waiting: boolean;
  /** The EVSE limit the CSMS last heard of in this transaction (undefined: never told, the hardware maximum). */
  limitTold: number | undefined;
  /** Last meter sample of the transaction (Ended's Transaction.End, TriggerMessage). */
  lastSample: MeterSample | undefined;
  /** J02 TxEndedInterval samples kept for Ended. */
  endedSamples: { at: number; mv: MeterValue }[];
  /** TransactionEvents queued in this run and not yet answered or given up (E14). */
  queued: number;
}

/** What one queued event marks in the store. */
export interface TxMarks {
  started: boolean;
  ended: boolean;
  idTokenSent: boolean;
}

export class V201TxRecords {
  private readonly byId = new Map<string, V201Tx>();

  constructor(private readonly repo: V201TransactionRepo) {}

  /** Rebuild the records of the transactions the store has open (started, Ended not queued). */
  load(): void {
    this.byId.clear();
    for (const row of this.repo.open()) this.byId.set(row.transactionId, fromRow(row));
  }

  get(id: string): V201Tx | undefined {
    return this.byId.get(id);
  }

  /** Is the transaction started and its Ended not queued yet? */
  isOpen(id: string): boolean {
    const tx = this.byId.get(id);
    return tx !== undefined && !tx.ended;
  }

  /** Open transactions (Ended not queued), oldest first. */
  open(): V201Tx[] {
    return [...this.byId.values()].filter((tx) => !tx.ended);
  }

  /** Did this transaction end (its Ended is queued, now or in an earlier run)? */
  hasEnded(id: string): boolean {
    return this.byId.get(id)?.ended ?? this.repo.get(id)?.ended ?? false;
  }

  /**
   * Take the next seqNo for an event of the transaction (creating its record with the first one) and
   * record what the event marks. Call inside the DB transaction that queues the event: the store's row
   * commits with it. The record follows the store only once that commit is done (`commit`).
   */
  nextSeqNo(tx: { id: string; evseId: number; connectorId: number }, marks: TxMarks, at: number): number {
    return this.repo.nextSeqNo(tx.id, tx.evseId, tx.connectorId, marks, at);
  }

  /** After the event's DB transaction committed: the record as the store now has it; created with Started. */
  commit(tx: { id: string; evseId: number; connectorId: number }, seqNo: number, marks: TxMarks, init: Partial<V201Tx> = {}): V201Tx {
    let rec = this.byId.get(tx.id);
    if (!rec) {
      rec = { ...blank(tx.id, tx.evseId, tx.connectorId), ...init };
      this.byId.set(tx.id, rec);
    }
    rec.seqNo = seqNo + 1;
    rec.idTokenSent ||= marks.idTokenSent;
    rec.ended ||= marks.ended;
    rec.queued++;
    return rec;
  }

  /** One of the transaction's queued messages was answered or given up; an ended transaction with none left goes. */
  dequeued(rec: V201Tx): void {
    rec.queued = Math.max(0, rec.queued - 1);
    if (rec.ended && rec.queued === 0) this.byId.delete(rec.id);
  }

  /** Every record, ended ones still waiting for their queued messages included (tests, diagnostics). */
  all(): readonly V201Tx[] {
    return [...this.byId.values()];
  }
}

function blank(id: string, evseId: number, connectorId: number): V201Tx {
  return {
    id,
    evseId,
    connectorId,
    seqNo: 0,
    idTokenSent: false,
    ended: false,
    lastState: undefined,
    waiting: false,
    limitTold: undefined,
    lastSample: undefined,
    endedSamples: [],
    queued: 0,
  };
}

function fromRow(row: V201TxRow): V201Tx {
  return { ...blank(row.transactionId, row.evseId, row.connectorId), seqNo: row.nextSeqNo, idTokenSent: row.idTokenSent };
}
