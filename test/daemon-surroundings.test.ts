/**
 * The daemon's own surroundings (issue 10, point 9): a closed stdout/stderr pipe, the umask, and a
 * config refused before anything is made. Each runs the daemon as a real child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendControlRequest } from '../src/control/client.js';
import { startCsms } from './support/csms.js';
import { buildRoot } from './support/paths.js';

const cli = join(buildRoot(), 'src', 'cli.js');
const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'surroundings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function config(dir: string, over: Record<string, unknown> = {}): { file: string; stateDir: string } {
  const stateDir = join(dir, 'state');
  const file = join(dir, 'station.json');
  writeFileSync(
    file,
    JSON.stringify({
      station: { identity: 'CP-SURR' },
      // Nothing listens there: the link retries and logs while the test runs.
      ocpp: { version: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp', reconnect: { minDelayS: 0.05, maxDelayS: 0.1 } },
      hal: { board: 'sim' },
      stateDir,
      log: { level: 'debug' },
      ...over,
    }),
  );
  return { file, stateDir };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

function exited(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) resolve(proc.exitCode);
    else proc.on('exit', (code) => resolve(code));
  });
}

test('stdout and stderr closed (EPIPE): the daemon keeps serving, its memory stays bounded, SIGTERM ends it with 0', async (t) => {
  const dir = tempDir(t);
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  t.after(() => csms.close());
  const { file, stateDir } = config(dir, {
    ocpp: { version: '1.6', csmsUrl: csms.url, messageLog: { enabled: true }},
  });
  const proc = spawn(process.execPath, [cli, 'run', '--config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(proc);
  t.after(() => proc.kill('SIGKILL'));
  let seen = '';
  proc.stdout!.on('data', (c: Buffer) => (seen += c.toString()));
  const socket = join(stateDir, 'control.sock');
  await waitFor('the daemon to run', () => /info: running /.test(seen));
  await csms.waitFor('BootNotification', undefined, 15_000);

  // The reading ends go away: every later write of the daemon to stdout/stderr fails with EPIPE.
  proc.stdout!.destroy();
  proc.stderr!.destroy();

  // Log lines keep coming (debug level: every frame, every control request, a session).
  for (const cmd of [{ cmd: 'plug', evse: 1 }, { cmd: 'tap', idToken: '04A1B2C3' }, { cmd: 'ev-ready', evse: 1 }]) {
    const r = await sendControlRequest(socket, cmd);
    assert.ok(r.ok, JSON.stringify(r));
  }
  await csms.waitFor('StartTransaction', undefined, 15_000);
  for (let i = 0; i < 20; i++) {
    const r = await sendControlRequest(socket, { cmd: 'status' });
    assert.ok(r.ok, JSON.stringify(r));
  }
  // Generous: the daemon runs at ~100 MB; the old code grew by ~50 MB/s.
  assert.ok(rssKb(proc.pid!) < 400_000, `RSS ${rssKb(proc.pid!)} kB`);
  // The message log (a file) still gets every frame.
  const log = readFileSync(join(stateDir, 'ocpp-messages.log'), 'utf8');
  assert.match(log, /"StartTransaction"/);

  proc.kill('SIGTERM');
  assert.equal(await done, 0);
  const stop = await csms.waitFor<{ reason: string }>('StopTransaction', undefined, 5000);
  assert.equal(stop.reason, 'Local');
});

test('files the daemon creates are private whatever the umask (umask 000): state dir 0700, db, -wal, -shm, message log, socket 0600', async (t) => {
  const dir = tempDir(t);
  const { file, stateDir } = config(dir, {
    ocpp: { version: '1.6', csmsUrl: 'ws://127.0.0.1:9/ocpp', messageLog: { enabled: true }, password: 'secret-password-1' },
  });
  // The child sets umask 000 itself (a shell's `umask 000; exec node …`).
  const proc = spawn('/bin/sh', ['-c', `umask 000; exec "${process.execPath}" "${cli}" run --config "${file}"`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = exited(proc);
  t.after(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await waitFor('the daemon to run', () => /info: running /.test(out));
  await waitFor('a frame in the message log', () => existsSync(join(stateDir, 'ocpp-messages.log')));

  const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
  assert.equal(mode(stateDir), '700');
  const made = readdirSync(stateDir).sort();
  for (const name of ['station.db', 'station.db-wal', 'station.db-shm', 'ocpp-messages.log', 'control.sock']) {
    assert.ok(made.includes(name), `${name} in ${made.join(', ')}`);
  }
  for (const name of made) {
    const m = statSync(join(stateDir, name)).mode & 0o777;
    assert.equal(m & 0o137, 0, `${name} is ${m.toString(8)}: no write for the group, nothing for others`);
  }
  assert.equal(mode(join(stateDir, 'station.db')), '600');
  proc.kill('SIGTERM');
  assert.equal(await done, 0, out);
});

test('a config that fails validation creates nothing on disk: schema error and unknown board both exit 2 without a state dir', (t) => {
  const dir = tempDir(t);
  const schemaError = config(dir, { ocpp: { csmsUrl: 'ws://127.0.0.1:9/ocpp', securityProfile: 7 } });
  let r = spawnSync(process.execPath, [cli, 'run', '--config', schemaError.file], { env, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /config error: \/ocpp\/securityProfile/);
  assert.equal(existsSync(schemaError.stateDir), false, 'no state directory');

  const unknownBoard = config(dir, { hal: { board: 'no-such-board' } });
  r = spawnSync(process.execPath, [cli, 'run', '--config', unknownBoard.file], { env, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /config error: \/hal\/board: board profile "no-such-board" not found/);
  assert.equal(r.stdout, '', 'no log line: nothing was started');
  assert.equal(existsSync(unknownBoard.stateDir), false, 'no state directory, no database, no log file');

  const check = spawnSync(process.execPath, [cli, 'check-config', unknownBoard.file], { env, encoding: 'utf8', timeout: 20_000 });
  assert.equal(check.status, 2, 'check-config refuses the unknown board too');
  assert.equal(existsSync(unknownBoard.stateDir), false);
});
