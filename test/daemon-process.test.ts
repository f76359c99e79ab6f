/**
 * The daemon as a process (dist/src/cli.js): refuses a bad config with exit 2 having started nothing,
 * check-config exit codes, and on the simulated board: SIGTERM ends the running sessions cleanly
 * (exit 0), and a CSMS hard reset makes it exit 0 for systemd to restart it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendControlRequest } from '../src/control/client.js';
import { openDatabase } from '../src/store/db.js';
import { openSessions } from '../src/store/sessions.js';
import { startCsms, type Csms } from './support/csms.js';
import { buildRoot, repoRoot } from './support/paths.js';

const cli = join(buildRoot(), 'src', 'cli.js');
// As if started from a shell, also when the test runner itself runs under systemd.
const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the daemon refuses a bad config: exit 2, every problem with its pointer, nothing started', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.json');
  const stateDir = join(dir, 'state');
  writeFileSync(
    file,
    JSON.stringify({ station: { identity: 'CP1' }, ocpp: { csmsUrl: 'ws://127.0.0.1:9/ocpp', securityProfile: 4, pasword: 'x' }, stateDir }),
  );
  const r = runCli(['run', '--config', file]);
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n').sort(), [
    'config error: /ocpp/pasword: unknown property "pasword"',
    'config error: /ocpp/securityProfile: must be one of 0,1,2,3',
  ]);
  assert.equal(r.stdout, '', 'no log line: the logger was never created');
  assert.equal(existsSync(stateDir), false, 'the state directory was not created');
});

test('an unknown board profile is a config error (issue 10 point 9): exit 2, nothing created', (t) => {
  const dir = tempDir(t);
  const example = join(repoRoot(), 'config', 'station.example.json');
  const r = runCli(['run', '--config', example, '--state-dir', join(dir, 'state'), '--board', 'no-such-board']);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /config error: \/hal\/board: board profile "no-such-board" not found/);
  assert.equal(existsSync(join(dir, 'state')), false);
});

test('check-config: OK and exit 0 for a good file, errors and exit 2 for a bad one, usage error without a path', (t) => {
  const example = join(repoRoot(), 'config', 'station.example.json');
  const ok = runCli(['check-config', example]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, `OK ${example}\n`);

  const dir = tempDir(t);
  writeFileSync(join(dir, 'bad.json'), '{"station": {"identity": "CP1"}, "ocpp": {"csmsUrl": "wss://h/ocpp", "securityProfile": 2}}');
  const bad = runCli(['check-config', join(dir, 'bad.json')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'config error: /ocpp/password: security profile 2 needs a password\n');

  const overridden = runCli(['check-config', example, '--ocpp-version', '3.0']);
  assert.equal(overridden.status, 2);
  assert.match(overridden.stderr, /^config error: \/ocpp\/version: must be one of/);

  assert.equal(runCli(['check-config']).status, 64);
  assert.equal(runCli(['frobnicate']).status, 64);
  assert.equal(runCli(['run', '--no-such-option']).status, 64);
  const verb = runCli(['meter', 'write']);
  assert.equal(verb.status, 64);
  assert.match(verb.stderr, /usage: ocpp-station meter read/);
});

test('sub-commands reach their modules: sim and the bring-up commands', () => {
  for (const [args, usage] of [
    [['sim', '--help'], /^usage: ocpp-station sim /],
    [['meter', 'read', '--help'], /^usage: ocpp-station meter read /],
    [['pilot', 'monitor', '--help'], /^usage: ocpp-station pilot monitor /],
    [['reader', 'listen', '--help'], /^usage: ocpp-station reader listen /],
    [['relay', 'toggle', '--help'], /^usage: ocpp-station relay toggle /],
  ] as const) {
    const r = runCli([...args]);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, usage);
  }
});

test('--help and --version', () => {
  const help = runCli(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: ocpp-station/);
  assert.match(help.stdout, /check-config PATH/);
  const version = runCli(['--version']);
  assert.equal(version.stdout.trim(), (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version);
});

interface Daemon {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startDaemon(configFile: string): Daemon {
  const proc = spawn(process.execPath, [cli, 'run', '--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

async function waitFor(what: string, fn: () => boolean | Promise<boolean>, d?: Daemon, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}\n${d?.output() ?? ''}`);
}

function writeConfig(dir: string, csms: Csms): { file: string; stateDir: string } {
  const stateDir = join(dir, 'state');
  const file = join(dir, 'station.json');
  writeFileSync(
    file,
    JSON.stringify({
      station: { identity: 'CP-PROC' },
      ocpp: { version: '1.6', csmsUrl: csms.url, messageLog: { enabled: false } },
      hal: { board: 'sim' },
      stateDir,
      log: { level: 'debug' },
    }),
  );
  return { file, stateDir };
}

/** The CLI in a child process without blocking this one (the CSMS here must keep answering). */
async function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string }> {
  const proc = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const status = await new Promise<number | null>((r) => proc.on('exit', r));
  return { status, stdout };
}

/** A daemon on the sim board, connected to its own CSMS, after its BootNotification; both end with the test. */
async function bootedDaemon(t: { after(fn: () => void): void }): Promise<{ csms: Csms; d: Daemon; stateDir: string }> {
  const dir = tempDir(t);
  const csms = await startCsms({ protocols: ['ocpp1.6'] });
  t.after(() => csms.close());
  const { file, stateDir } = writeConfig(dir, csms);
  const d = startDaemon(file);
  t.after(() => d.proc.kill('SIGKILL'));
  await csms.waitFor('BootNotification', undefined, 15_000);
  return { csms, d, stateDir };
}

async function chargingOnEvse1(stateDir: string, d: Daemon): Promise<void> {
  const socket = join(stateDir, 'control.sock');
  await waitFor('the control socket', () => existsSync(socket), d);
  // Through the CLI once (ocpp-station sim → src/control/sim-cli.ts), then straight to the socket.
  const plug = await runCliAsync(['sim', 'plug', '--evse', '1', '--state-dir', stateDir]);
  assert.equal(plug.status, 0, plug.stdout);
  const r = await sendControlRequest(socket, { cmd: 'tap', idToken: '04A1B2C3' });
  assert.ok(r.ok, JSON.stringify(r));
  await waitFor(
    'the contactor to close',
    async () => {
      const r = await sendControlRequest(socket, { cmd: 'status' });
      return r.ok && r.status.evses?.[0]?.contactorClosed === true;
    },
    d,
  );
}

test('SIGTERM on the sim board while charging: exit 0, StopTransaction(Local) sent, no running session, contactor open in the DB', async (t) => {
  const { csms, d, stateDir } = await bootedDaemon(t);
  await chargingOnEvse1(stateDir, d);
  await csms.waitFor('StartTransaction', undefined, 15_000);

  d.proc.kill('SIGTERM');
  assert.equal(await d.exited, 0, d.output());
  assert.match(d.output(), /info: stopping why=SIGTERM reason=Local/);
  assert.match(d.output(), /info: stopped exitCode=0/);
  const stop = await csms.waitFor<{ reason: string }>('StopTransaction', undefined, 1000);
  assert.equal(stop.reason, 'Local');

  const db = openDatabase(join(stateDir, 'station.db'));
  try {
    assert.deepEqual(openSessions(db), []);
    const rows = (db.prepare('SELECT data FROM sessions').all() as { data: string }[]).map(
      (r) => JSON.parse(r.data) as { stoppedReason: string; powerPathClosed: boolean },
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.stoppedReason, 'Local');
    assert.equal(rows[0]!.powerPathClosed, false, 'the contactor was opened');
  } finally {
    db.close();
  }
  assert.equal(existsSync(join(stateDir, 'control.sock')), false, 'the control socket is removed');
});

test('a hard reset from the CSMS (1.6 §5.14) stops gracefully and exits 0 for systemd to restart', async (t) => {
  const { csms, d, stateDir } = await bootedDaemon(t);
  await chargingOnEvse1(stateDir, d);
  await csms.waitFor('StartTransaction', undefined, 15_000);
  const answer = await csms.call<{ status: string }>('CP-PROC', 'Reset', { type: 'Hard' });
  assert.equal(answer.status, 'Accepted');

  assert.equal(await d.exited, 0, d.output());
  assert.match(d.output(), /restart requested: exiting; not under systemd/);
  const stop = await csms.waitFor<{ reason: string }>('StopTransaction', undefined, 1000);
  assert.equal(stop.reason, 'HardReset');
  const db = openDatabase(join(stateDir, 'station.db'));
  try {
    assert.deepEqual(openSessions(db), []);
  } finally {
    db.close();
  }
});

test('a second signal during the graceful stop forces the outputs safe and exits 1 at once', async (t) => {
  const { d } = await bootedDaemon(t);
  await waitFor('running', () => /info: running /.test(d.output()), d);
  // Two different signals: the kernel does not merge them, so one arrives while the other stops.
  d.proc.kill('SIGTERM');
  d.proc.kill('SIGINT');
  assert.equal(await d.exited, 1, d.output());
  // Which of the two the process sees first is up to the kernel.
  assert.match(d.output(), /warn: second signal: forcing the outputs safe and exiting now signal=SIG(INT|TERM)/);
  assert.doesNotMatch(d.output(), /info: stopped exitCode=0/);
});
