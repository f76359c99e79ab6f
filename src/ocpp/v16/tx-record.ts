/**
 * One record per 1.6 transaction of this station (issue 12 point 3, in the spirit of libocpp's
 * EnhancedTransaction): what StartTransaction told (connector, idTag, meterStart, start time), the
 * transactionId the Central System gave, whether StopTransaction is queued, and whether StartTransaction
 * waits for its answer in this run — in one object held in one map keyed by session id, instead of
 * reading rows and keeping a parallel map of unanswered starts.
 *
 * v16_transactions (src/store/v16-transactions.ts) stays what survives a restart: every change goes to
 * it first and the map follows; at start the map is rebuilt from it. A record is created when
 * StartTransaction is queued and removed when StopTransaction was answered or given up (the store's row
 * goes with it). The meter values kept for StopTransaction.transactionData stay in the store only
 * (v16_tx_data): they are written as they come and read once, at the stop.
 */
import type { V16TransactionRepo, V16TxRow } from '../../store/v16-transactions.js';

export interface V16Tx extends V16TxRow {
  /** StartTransaction queued in this run and neither answered nor given up (status.ts holds Charging back). */
  startPending: boolean;
}

export class V16TxRecords {
  private readonly bySession = new Map<string, V16Tx>();

  constructor(readonly repo: V16TransactionRepo) {
    this.load();
  }

  /** Rebuild the records from the store (a StartTransaction of an earlier run is not waited for here). */
  load(): void {
    const pending = new Set([...this.bySession.values()].filter((t) => t.startPending).map((t) => t.sessionId));
    this.bySession.clear();
    for (const row of this.repo.all()) this.bySession.set(row.sessionId, { ...row, startPending: pending.has(row.sessionId) });
  }

  get(sessionId: string): V16Tx | undefined {
    return this.bySession.get(sessionId);
  }

  /** The latest transaction the Central System gave this id. */
  byTransactionId(transactionId: number): V16Tx | undefined {
    let found: V16Tx | undefined;
    for (const tx of this.bySession.values()) {
      if (tx.transactionId === transactionId && (!found || tx.startedAt >= found.startedAt)) found = tx;
    }
    return found;
  }

  all(): readonly V16Tx[] {
    return [...this.bySession.values()];
  }

  /**
   * The record of a transaction whose StartTransaction is being queued; its row goes to the store in the
   * caller's DB transaction (repo.insert), and `hold` keeps the record once that committed.
   */
  create(row: Omit<V16TxRow, 'transactionId' | 'stopQueued'>): V16Tx {
    return { ...row, transactionId: null, stopQueued: false, startPending: true };
  }

  hold(tx: V16Tx): void {
    this.bySession.set(tx.sessionId, tx);
  }

  setTransactionId(tx: V16Tx, transactionId: number): void {
    this.repo.setTransactionId(tx.sessionId, transactionId);
    tx.transactionId = transactionId;
  }

  /** StopTransaction answered or given up: the transaction is forgotten, in the store and here. */
  close(sessionId: string): void {
    this.repo.delete(sessionId);
    this.bySession.delete(sessionId);
  }
}
