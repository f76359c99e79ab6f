/**
 * Per-transaction state of the OCPP 2.0.1 adapter: the next TransactionEvent seqNo (gapless, bumped
 * and committed before the event is queued) and which events were already queued, so that a restart
 * neither repeats a Started nor skips an Ended.
 */
import type { Db, MigrationSet } from './db.js';

export const v201TransactionMigrations: MigrationSet = {
  module: 'v201-transactions',
  steps: [
    `CREATE TABLE v201_transactions (
       transaction_id TEXT PRIMARY KEY,
       evse_id INTEGER NOT NULL,
       connector_id INTEGER NOT NULL,
       next_seq_no INTEGER NOT NULL DEFAULT 0,
       started INTEGER NOT NULL DEFAULT 0,
       ended INTEGER NOT NULL DEFAULT 0,
       id_token_sent INTEGER NOT NULL DEFAULT 0,
       created_at INTEGER NOT NULL
     )`,
  ],
};

export interface V201TxRow {
  transactionId: string;
  evseId: number;
  connectorId: number;
  nextSeqNo: number;
  started: boolean;
  ended: boolean;
  idTokenSent: boolean;
}

interface RawRow {
  transaction_id: string;
  evse_id: number;
  connector_id: number;
  next_seq_no: number;
  started: number;
  ended: number;
  id_token_sent: number;
}

const toRow = (r: RawRow): V201TxRow => ({
  transactionId: r.transaction_id,
  evseId: r.evse_id,
  connectorId: r.connector_id,
  nextSeqNo: r.next_seq_no,
  started: r.started === 1,
  ended: r.ended === 1,
  idTokenSent: r.id_token_sent === 1,
});

export class V201TransactionRepo {
  constructor(private readonly db: Db) {
  }

  get(transactionId: string): V201TxRow | undefined {
    const r = this.db.prepare('SELECT * FROM v201_transactions WHERE transaction_id = ?').get(transactionId) as RawRow | undefined;
    return r ? toRow(r) : undefined;
  }

  /** Transactions started but not ended (ongoing, or waiting for their Ended). */
  open(): V201TxRow[] {
    const rows = this.db.prepare('SELECT * FROM v201_transactions WHERE started = 1 AND ended = 0').all() as RawRow[];
    return rows.map(toRow);
  }

  /**
   * Takes the next seqNo and records what this event marks (started / ended / idToken sent), in the
   * caller's DB transaction so that it commits together with the queued message.
   */
  nextSeqNo(
    transactionId: string,
    evseId: number,
    connectorId: number,
    marks: { started?: boolean; ended?: boolean; idTokenSent?: boolean },
    at: number,
  ): number {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO v201_transactions (transaction_id, evse_id, connector_id, created_at) VALUES (?, ?, ?, ?)`,
      )
      .run(transactionId, evseId, connectorId, at);
    const row = this.get(transactionId)!;
    this.db
      .prepare(
        `UPDATE v201_transactions SET next_seq_no = next_seq_no + 1,
           started = MAX(started, ?), ended = MAX(ended, ?), id_token_sent = MAX(id_token_sent, ?)
         WHERE transaction_id = ?`,
      )
      .run(marks.started ? 1 : 0, marks.ended ? 1 : 0, marks.idTokenSent ? 1 : 0, transactionId);
    return row.nextSeqNo;
  }

  /** Drop rows of transactions ended long ago. */
  prune(before: number): void {
    this.db.prepare('DELETE FROM v201_transactions WHERE ended = 1 AND created_at < ?').run(before);
  }
}
