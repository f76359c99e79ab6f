/**
 * `ocpp-station outbox list|show|replay|drop` as a process (issue 10 point 3), on a stopped station's
 * database and on a running daemon's: dead letters are visible, a replay puts them back at their old
 * place and a running daemon sends them at once, drop deletes them; the daemon logs their count at
 * start and sends them again after its accepted BootNotification.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase, type Db } from '../src/store/db.js';
import { OutboxStore } from '../src/store/outbox.js';
import { startCsms } from './support/csms.js';
import { buildRoot } from './support/paths.js';

const cli = join(buildRoot(), 'src', 'cli.js');
const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'outbox', ...args], { encoding: 'utf8', env, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (the in-process CSMS must keep answering). */
async function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [cli, 'outbox', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((r) => proc.on('exit', r));
  return { status, stdout, stderr };
}

/** A dead letter as the outbox leaves it, written by "another process" (a connection of its own). */
function addDead(db: Db, id: number, data: string): void {
  db.prepare(
    `INSERT INTO outbox_dead (id, action, payload, tx_key, attempts, created_at, died_at, error)
     VALUES (?, 'DataTransfer', ?, NULL, 3, 1767225600000, 1767225660000, 'CALLERROR InternalError: cannot process')`,
  ).run(id, JSON.stringify({ vendorId: 'ocpp-station', data }));
}

const deadIds = (db: Db) => (db.prepare('SELECT id FROM outbox_dead ORDER BY id').all() as { id: number }[]).map((r) => r.id);
const queued = (db: Db) => db.prepare('SELECT id, action, attempts FROM outbox ORDER BY id').all();

async function waitFor(what: string, fn: () => boolean, out: () => string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}\n${out()}`);
}

test('outbox CLI on a stopped station: list, show, replay (old place, attempts 0), drop; bad ids refused; no database created', (t) => {
  const stateDir = join(tempDir(t), 'state');
  const db = openDatabase(join(stateDir, 'station.db'));
  const store = new OutboxStore(db);
  const start = store.add('StartTransaction', { connectorId: 1, idTag: '04A2B3C4', meterStart: 0, timestamp: '2026-01-01T00:00:00.000Z' }, 'S1', 1);
  store.setAttempts(start, 5);
  store.kill(start, 'CALLERROR InternalError: no', 2);
  store.add('StopTransaction', { transactionId: -1, meterStop: 5, timestamp: '2026-01-01T01:00:00.000Z' }, 'S1', 3);
  addDead(db, 7, 'seven');
  db.close();

  const list = runCli(['list', '--state-dir', stateDir]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^2 dead letter\(s\), 1 message\(s\) queued\n/);
  assert.match(list.stdout, /\n1\tStartTransaction\tS1\t5\t1970-01-01T00:00:00\.002Z\tCALLERROR InternalError: no\n/);
  assert.match(list.stdout, /\n7\tDataTransfer\t-\t3\t/);
  const json = JSON.parse(runCli(['list', '--state-dir', stateDir, '--json']).stdout) as { queued: number; dead: { id: number }[] };
  assert.equal(json.queued, 1);
  assert.deepEqual(json.dead.map((d) => d.id), [1, 7]);

  const show = runCli(['show', '7', '--state-dir', stateDir, '--json']);
  assert.equal(show.status, 0, show.stderr);
  assert.deepEqual((JSON.parse(show.stdout) as { payload: unknown }).payload, { vendorId: 'ocpp-station', data: 'seven' });

  for (const bad of [['show', '99'], ['replay', 'x'], ['drop'], ['replay', '2']]) {
    const r = runCli([...bad, '--state-dir', stateDir]);
    assert.equal(r.status, 1, `${bad.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, /^ocpp-station outbox: /);
  }
  assert.equal(runCli(['frob', '--state-dir', stateDir]).status, 64);

  const replay = runCli(['replay', '1', '--state-dir', stateDir]);
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, /^1 dead letter\(s\) queued again; the station sends them after its next accepted BootNotification\n$/);
  const drop = runCli(['drop', 'all', '--state-dir', stateDir]);
  assert.equal(drop.status, 0, drop.stderr);
  assert.equal(drop.stdout, '1 dead letter(s) deleted\n');

  const after = openDatabase(join(stateDir, 'station.db'));
  try {
    // The StartTransaction is back ahead of its StopTransaction (id order is queue order).
    assert.deepEqual(queued(after), [
      { id: 1, action: 'StartTransaction', attempts: 0 },
      { id: 2, action: 'StopTransaction', attempts: 0 },
    ]);
    assert.deepEqual(deadIds(after), []);
  } finally {
    after.close();
  }

  const missing = join(tempDir(t), 'nothing-here');
  const none = runCli(['list', '--state-dir', missing]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no station database at .*nothing-here\/station\.db/);
  assert.equal(existsSync(missing), false, 'nothing created');
});

test('outbox CLI on a running daemon: the start logs the dead letters, the accepted boot sends them; replay is sent at once, drop deletes', async (t) => {
  const dir = tempDir(t);
  const stateDir = join(dir, 'state');
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  t.after(() => csms.close());
  const seen = () => csms.log.filter((e) => e.direction === 'in' && e.type === 'call' && e.action === 'DataTransfer').map((e) => (e.payload as { data: string }).data);

  const db = openDatabase(join(stateDir, 'station.db'));
  new OutboxStore(db);
  addDead(db, 5, 'before-start');
  db.close();

  const file = join(dir, 'station.json');
  writeFileSync(
    file,
    JSON.stringify({
      station: { identity: 'CP-OUTBOX' },
      ocpp: { version: '1.6', csmsUrl: csms.url, messageLog: { enabled: false } },
      hal: { board: 'sim' },
      stateDir,
      log: { level: 'info' },
    }),
  );
  const proc: ChildProcess = spawn(process.execPath, [cli, 'run', '--config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const output = () => out;

  await waitFor('the start line with the dead letters', () => /OCPP outbox: 1 dead letter\(s\)/.test(out), output);
  await waitFor('the dead letter sent after the accepted boot', () => seen().includes('before-start'), output);
  await waitFor('the control socket', () => existsSync(join(stateDir, 'control.sock')), output);

  const other = openDatabase(join(stateDir, 'station.db'));
  t.after(() => other.close());
  await waitFor('the replayed row answered', () => queued(other).length === 0 && deadIds(other).length === 0, output);
  addDead(other, 100, 'while-running');
  addDead(other, 101, 'to-drop');

  const list = await runCliAsync(['list', '--config', file]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^2 dead letter\(s\)/);
  assert.match(list.stdout, /\n100\tDataTransfer\t/);

  const replay = await runCliAsync(['replay', '100', '--config', file]);
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, /^1 dead letter\(s\) queued again; the running daemon sends them now\n$/);
  await waitFor('the replayed message at the CSMS', () => seen().includes('while-running'), output);

  const drop = await runCliAsync(['drop', '101', '--config', file]);
  assert.equal(drop.status, 0, drop.stderr);
  await waitFor('the outbox empty', () => queued(other).length === 0, output);
  assert.deepEqual(deadIds(other), []);
  assert.deepEqual(seen(), ['before-start', 'while-running']);
});
