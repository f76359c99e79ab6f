/**
 * Durable writes and the event loop (docs/ARCHITECTURE.md). Session changes that recovery after a
 * power cut does not need (power path, charging state, EV-side flicker) are committed without fsync
 * (commitLazy, synchronous=NORMAL); open, authorization and end stay FULL. These tests count the
 * commits of a C → B → C cycle by their synchronous level, and prove that recovery after a SIGKILL
 * still ends the session with PowerLoss, the right meter values and token.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../base/clock.js';
import { commitLazy, openDatabase, type Db } from '../src/store/db.js';
import { loadSession } from '../src/store/sessions.js';
import type { Session } from '../src/station/api.js';
import { charging, makeStation, tok } from './support/station-fixture.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'support', 'session-crash-child.js');
const SAMPLES_CHILD = join(dirname(fileURLToPath(import.meta.url)), 'support', 'session-samples-crash-child.js');
const FULL = 2;
const NORMAL = 1;

function tempDb(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'station-durability-'));
  return { path: join(dir, 'station.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const sync = (db: Db): number => db.pragma('synchronous', { simple: true }) as number;

/**
 * Records every commit of the connection with the synchronous level it ran under: a write statement
 * outside a transaction (autocommit) or an outermost db.transaction() call.
 */
function countCommits(db: Db): { full: number; lazy: number; reset(): void } {
  const c = { full: 0, lazy: 0, reset: () => ((c.full = 0), (c.lazy = 0)) };
  const note = (): void => {
    if (sync(db) === FULL) c.full++;
    else c.lazy++;
  };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    if (!/^\s*(INSERT|UPDATE|DELETE|REPLACE)/i.test(sql)) return st;
    const run = st.run.bind(st);
    st.run = (...args: unknown[]) => {
      const auto = !db.inTransaction;
      const r = run(...args);
      if (auto) note();
      return r;
    };
    return st;
  }) as Db['prepare'];
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const tx = transaction(fn);
    return (...args: unknown[]) => {
      const outer = !db.inTransaction;
      const r = tx(...args);
      if (outer) note();
      return r;
    };
  }) as Db['transaction'];
  return c;
}

test('commitLazy commits with synchronous=NORMAL, then FULL again (also after a failure); inside a transaction it joins it', () => {
  const t = tempDb();
  const db = openDatabase(t.path);
  try {
    db.exec('CREATE TABLE t (v INTEGER)');
    assert.equal(sync(db), FULL);
    const seen = commitLazy(db, () => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      return sync(db);
    });
    assert.equal(seen, NORMAL);
    assert.equal(sync(db), FULL);
    assert.throws(() =>
      commitLazy(db, () => {
        db.prepare('INSERT INTO t VALUES (2)').run();
        throw new Error('boom');
      }),
    );
    assert.equal(sync(db), FULL, 'back to FULL after a failure');
    assert.deepEqual(db.prepare('SELECT v FROM t').pluck().all(), [1], 'the failed one rolled back');
    db.transaction(() => {
      commitLazy(db, () => db.prepare('INSERT INTO t VALUES (3)').run());
      assert.equal(sync(db), FULL, 'the outer FULL commit decides');
    })();
    assert.deepEqual(db.prepare('SELECT v FROM t').pluck().all(), [1, 3]);
  } finally {
    db.close();
    t.done();
  }
});

test('a C → B → C cycle costs no FULL commit (power path and charging state are lazy); open, authorization and end stay FULL', async () => {
  const t = tempDb();
  const db = openDatabase(t.path);
  const commits = countCommits(db);
  const f = await makeStation({ db });
  try {
    const e = f.hal.evse(1);
    f.csms.answers.set('AA11', { status: 'Accepted' });
    commits.reset();
    e.pilot.setState('B');
    assert.ok(commits.full >= 1, 'session open is FULL');
    commits.reset();
    await f.station.presentToken(tok('AA11'), 1);
    assert.ok(commits.full >= 1, 'authorization is FULL');
    e.pilot.setState('C');
    await f.clock.advance(0);
    assert.equal(e.contactor.commanded, true);

    commits.reset();
    e.pilot.setState('B'); // C → B: power path opens, SuspendedEV
    assert.equal(e.contactor.commanded, false);
    e.pilot.setState('C'); // B → C: power path closes, Charging
    assert.equal(e.contactor.commanded, true);
    await f.clock.advance(0);
    assert.deepEqual({ full: commits.full, lazy: commits.lazy }, { full: 0, lazy: 4 });
    assert.deepEqual(
      f.sessionEvents().slice(-4).map((x) => x.type).sort(),
      ['charging-state', 'charging-state', 'power-path-closed', 'power-path-opened'],
      'the events still come, one per lazy commit',
    );

    commits.reset();
    await f.station.presentToken(tok('AA11'), 1); // the same token stops the session
    await f.clock.advance(0);
    assert.equal(f.sessionEvents('ended').length, 1);
    assert.ok(commits.full >= 2, 'the end and its final meter value are FULL');
  } finally {
    await f.stop();
    db.close();
    t.done();
  }
});

test('SIGKILL during a session whose last changes were lazy: the next start ends it with PowerLoss, meterStart, meterStop and the token', async () => {
  const t = tempDb();
  try {
    const child = spawn(process.execPath, [CHILD, t.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', () => reject(new Error('child exited before ready')));
    });
    assert.equal(ready, 'ready SuspendedEV');
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    lines.close();

    // The meter kept its count through the cut.
    const f = await makeStation({ dbPath: t.path, beforeStation: (hal) => (hal.evse(1).meter.energyWh = 1500) });
    try {
      const ended = f.sessionEvents('ended');
      assert.equal(ended.length, 1);
      const s: Session = ended[0]!.session;
      assert.equal(ended[0]!.trigger, 'AbnormalCondition');
      assert.equal(s.stoppedReason, 'PowerLoss');
      assert.equal(s.idToken?.idToken, 'AA11');
      assert.equal(s.meterStartWh, 1000);
      assert.equal(s.meterStopWh, 1500);
      assert.equal(s.powerPathClosed, false);
      // The last lazy commit (C → B) survived the process crash: WAL commits are atomic without fsync.
      assert.equal(s.chargingState, 'SuspendedEV');
      assert.equal(f.hal.evse(1).contactor.commanded, false);
    } finally {
      await f.stop();
    }
    // Reported once: a further start finds nothing to recover.
    const again = await makeStation({ dbPath: t.path });
    assert.equal(again.sessionEvents('ended').length, 0);
    await again.stop();
  } finally {
    t.done();
  }
});

test('issue 10 #7: SIGKILL mid-charge, restart an hour later with a meter that restarted at 0: the session ends (PowerLoss) at its last checkpoint with the last sampled energy', async () => {
  const t = tempDb();
  try {
    const child = spawn(process.execPath, [SAMPLES_CHILD, t.path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', () => reject(new Error('child exited before ready')));
    });
    const [word, lastSampleAt, lastEnergy, cutAt] = ready.split(' ');
    assert.equal(word, 'ready');
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    lines.close();
    assert.equal(Number(lastEnergy), 1500);

    const restartAt = Number(cutAt) + 3_600_000;
    const f = await makeStation({ dbPath: t.path, clock: new VirtualClock(restartAt), beforeStation: (hal) => (hal.evse(1).meter.energyWh = 0) });
    try {
      const ended = f.sessionEvents('ended');
      assert.equal(ended.length, 1);
      const s: Session = ended[0]!.session;
      assert.equal(s.stoppedReason, 'PowerLoss');
      assert.equal(s.meterStartWh, 1000);
      assert.equal(s.meterStopWh, 1500, 'the last sampled register, not the 0 of the restarted meter');
      assert.equal(s.endedAt, Number(lastSampleAt), 'the last checkpoint, not the restart an hour later');
      assert.equal(ended[0]!.at, s.endedAt, 'the event carries the time it ended');
    } finally {
      await f.stop();
    }
  } finally {
    t.done();
  }
});

test('issue 10 #7: energy checkpoints cost no fsync: a periodic sample of a running session is a lazy commit', async () => {
  const t = tempDb();
  const db = openDatabase(t.path);
  const commits = countCommits(db);
  const f = await makeStation({ db });
  try {
    f.station.setSampleInterval(60);
    await charging(f);
    commits.reset();
    await f.clock.advance(60_000);
    assert.equal(f.ev.meter.filter((m) => m.context === 'Sample.Periodic').length, 1);
    assert.equal(commits.full, 0, 'no FULL commit for the sample');
    assert.ok(commits.lazy >= 1, 'checkpointed lazily');
    assert.equal(loadSession<Session>(db, f.station.session(1)!.id)?.lastEnergyWh, 1000);
  } finally {
    await f.stop();
    db.close();
    t.done();
  }
});
