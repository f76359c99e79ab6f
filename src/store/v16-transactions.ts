/**
 * OCPP 1.6 transaction bookkeeping: which station session became which 1.6 transaction, and the meter
 * values kept for StopTransaction.transactionData. Persisted so that a restart (power loss) still
 * knows whether StartTransaction went out and which transactionId the CSMS gave.
 */
import type { Db, MigrationSet } from './db.js';

export const v16TransactionMigrations: MigrationSet = {
  module: 'v16-transactions',
  steps: [
    `CREATE TABLE v16_transactions (
       session_id TEXT PRIMARY KEY,
       connector_id INTEGER NOT NULL,
       id_tag TEXT NOT NULL,
       meter_start INTEGER NOT NULL,
       started_at INTEGER NOT NULL,
       transaction_id INTEGER,
       stop_queued INTEGER NOT NULL DEFAULT 0
     );
     CREATE INDEX v16_transactions_tid ON v16_transactions (transaction_id);
     CREATE TABLE v16_tx_data (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       session_id TEXT NOT NULL,
       meter_value TEXT NOT NULL
     );
     CREATE INDEX v16_tx_data_session ON v16_tx_data (session_id);`,
  ],
};

export interface V16TxRow {
  sessionId: string;
  connectorId: number;
  idTag: string;
  meterStart: number;
  startedAt: number;
  transactionId: number | null;
  stopQueued: boolean;
}

interface RawRow {
  session_id: string;
  connector_id: number;
  id_tag: string;
  meter_start: number;
  started_at: number;
  transaction_id: number | null;
  stop_queued: number;
}

const toRow = (r: RawRow): V16TxRow => ({
  sessionId: r.session_id,
  connectorId: r.connector_id,
  idTag: r.id_tag,
  meterStart: r.meter_start,
  startedAt: r.started_at,
  transactionId: r.transaction_id,
  stopQueued: r.stop_queued !== 0,
});

export class V16TransactionRepo {
  constructor(private readonly db: Db) {
  }

  insert(row: Omit<V16TxRow, 'transactionId' | 'stopQueued'>): void {
    this.db
      .prepare(
        `INSERT INTO v16_transactions (session_id, connector_id, id_tag, meter_start, started_at) VALUES (?, ?, ?, ?, ?)`,
      )
      .run(row.sessionId, row.connectorId, row.idTag, row.meterStart, row.startedAt);
  }

  get(sessionId: string): V16TxRow | undefined {
    const r = this.db.prepare('SELECT * FROM v16_transactions WHERE session_id = ?').get(sessionId) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  byTransactionId(transactionId: number): V16TxRow | undefined {
    const r = this.db
      .prepare('SELECT * FROM v16_transactions WHERE transaction_id = ? ORDER BY started_at DESC LIMIT 1')
      .get(transactionId) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  setTransactionId(sessionId: string, transactionId: number): void {
    this.db.prepare('UPDATE v16_transactions SET transaction_id = ? WHERE session_id = ?').run(transactionId, sessionId);
  }

  markStopQueued(sessionId: string): void {
    this.db.prepare('UPDATE v16_transactions SET stop_queued = 1 WHERE session_id = ?').run(sessionId);
  }

  /** Every transaction not forgotten yet (its StopTransaction not answered or given up), oldest first. */
  all(): V16TxRow[] {
    return (this.db.prepare('SELECT * FROM v16_transactions ORDER BY started_at').all() as RawRow[]).map(toRow);
  }

  /** Transactions whose StopTransaction has not been queued yet. */
  open(): V16TxRow[] {
    return (this.db.prepare('SELECT * FROM v16_transactions WHERE stop_queued = 0').all() as RawRow[]).map(toRow);
  }

  delete(sessionId: string): void {
    this.db.prepare('DELETE FROM v16_transactions WHERE session_id = ?').run(sessionId);
    this.db.prepare('DELETE FROM v16_tx_data WHERE session_id = ?').run(sessionId);
  }

  addData(sessionId: string, meterValue: object): void {
    this.db.prepare('INSERT INTO v16_tx_data (session_id, meter_value) VALUES (?, ?)').run(sessionId, JSON.stringify(meterValue));
  }

  data(sessionId: string): unknown[] {
    const rows = this.db.prepare('SELECT meter_value FROM v16_tx_data WHERE session_id = ? ORDER BY seq').all(sessionId) as {
      meter_value: string;
    }[];
    return rows.map((r) => JSON.parse(r.meter_value) as unknown);
  }

  clearData(sessionId: string): void {
    this.db.prepare('DELETE FROM v16_tx_data WHERE session_id = ?').run(sessionId);
  }
}
