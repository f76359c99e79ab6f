/**
 * The station side of the outbox crash test (test/ocpp-link-crash.test.ts), run as its own process so
 * the test can SIGKILL it: it opens the SQLite file, creates the link and either
 *   produce: enqueues numbered DataTransfer messages continuously, printing "q N" once N is committed;
 *   drain:   enqueues nothing, exits 0 once the outbox is empty.
 * Usage: node outbox-child.js DB_PATH CSMS_URL produce|drain
 */
import { SystemClock } from '../../base/clock.js';
import { loggerOver, type Logger } from '../../base/logger.js';
import { createLink } from '../../src/ocpp/rpc-link.js';
import { openDatabase } from '../../src/store/db.js';
import { ocppConfig } from './ocpp-link.js';

const [dbPath, csmsUrl, mode] = process.argv.slice(2);
if (!dbPath || !csmsUrl || (mode !== 'produce' && mode !== 'drain')) {
  process.stderr.write('usage: outbox-child.js DB_PATH CSMS_URL produce|drain\n');
  process.exit(2);
}

const quiet = () => undefined;
const log: Logger = loggerOver({
  error: (msg, meta) => void process.stderr.write(`error ${msg} ${JSON.stringify(meta ?? {})}\n`),
  warn: quiet,
  info: quiet,
  debug: quiet,
});

const db = openDatabase(dbPath);
db.exec('CREATE TABLE IF NOT EXISTS crash_counter (id INTEGER PRIMARY KEY CHECK (id = 1), next INTEGER NOT NULL)');
db.exec('INSERT OR IGNORE INTO crash_counter (id, next) VALUES (1, 0)');

const link = createLink(
  {
    ocpp: ocppConfig({ version: '1.6', csmsUrl, outbox: { retryAttempts: 1000, retryIntervalS: 0.05 } }),
    identity: 'CRASH1',
  },
  { db, clock: new SystemClock(), log },
);
link.setReady(true);
await link.start();

if (mode === 'produce') {
  const enqueueNext = db.transaction(() => {
    const { next } = db.prepare('SELECT next FROM crash_counter WHERE id = 1').get() as { next: number };
    link.enqueue('DataTransfer', { vendorId: 'ocpp-station', messageId: 'seq', data: String(next) });
    db.prepare('UPDATE crash_counter SET next = ? WHERE id = 1').run(next + 1);
    return next;
  });
  for (;;) {
    const n = enqueueNext();
    process.stdout.write(`q ${n}\n`);
    await new Promise((r) => setTimeout(r, 1));
  }
} else {
  while (link.pendingCount() > 0) await new Promise((r) => setTimeout(r, 10));
  await link.stop();
  db.close();
  process.stdout.write('drained\n');
}
