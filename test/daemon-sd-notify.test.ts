import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SdNotify, notifyArgs, watchdogIntervalMs } from '../src/sd-notify.js';
import { loggerOver } from '../base/logger.js';

const warnings: string[] = [];
const log = loggerOver({
  error: () => {},
  warn: (m: string) => void warnings.push(m),
  info: () => {},
  debug: () => {},
});

test('sd_notify message composition: --pid names this process, fields as KEY=VALUE', () => {
  assert.deepEqual(notifyArgs({ READY: '1', STATUS: 'online\nCSMS' }, 42), ['--pid=42', 'READY=1', 'STATUS=online CSMS']);
});

test('watchdog interval is half of WATCHDOG_USEC, only for the process it names', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 7), 15000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7), 15000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7), undefined);
  assert.equal(watchdogIntervalMs({}, 7), undefined);
});

test('outside systemd (no NOTIFY_SOCKET) every call is a no-op', async () => {
  warnings.length = 0;
  const n = new SdNotify({ env: { WATCHDOG_USEC: '1000' }, command: '/nonexistent/systemd-notify', log });
  assert.equal(n.enabled, false);
  await n.ready('up');
  await n.status('x');
  await n.stopping();
  assert.equal(n.startWatchdog(), false);
  assert.deepEqual(warnings, [], 'the missing tool was never run');
});

test('a failing notify tool is logged once and never throws', async () => {
  warnings.length = 0;
  const n = new SdNotify({ env: { NOTIFY_SOCKET: '/nonexistent.sock' }, command: '/nonexistent/systemd-notify', log });
  await n.ready();
  await n.send({ WATCHDOG: '1' });
  assert.deepEqual(warnings, ['sd_notify failed']);
});

const haveTools =
  spawnSync('systemd-notify', ['--version']).status === 0 && spawnSync('python3', ['--version']).status === 0;

test('READY, STATUS, WATCHDOG and STOPPING reach a NOTIFY_SOCKET listener', { skip: !haveTools && 'needs systemd-notify and python3' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const sock = join(dir, 'notify.sock');
  // A unix datagram receiver standing in for systemd (Node has none).
  const py = spawn('python3', [
    '-c',
    'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("listening",flush=True)\nwhile True:\n  print(s.recv(4096).decode().replace("\\n","|"),flush=True)',
    sock,
  ]);
  const lines = createInterface({ input: py.stdout });
  const received: string[] = [];
  let wake: (() => void) | undefined;
  lines.on('line', (l) => {
    received.push(l);
    wake?.();
  });
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((r) => (wake = r));
  };
  try {
    await until(() => received.includes('listening'));
    const n = new SdNotify({ env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '20000' }, pid: 4242, log });
    await n.ready('online');
    assert.equal(n.startWatchdog(), true, 'WATCHDOG_USEC asks for pings every 10 ms');
    await until(() => received.some((l) => l.includes('WATCHDOG=1')));
    await n.stopping('stopping');
    await until(() => received.some((l) => l.includes('STOPPING=1')));
    const messages = received.filter((l) => l.startsWith('MAINPID'));
    assert.equal(messages[0], 'MAINPID=4242|READY=1|STATUS=online');
    assert.equal(messages.at(-1), 'MAINPID=4242|STOPPING=1|STATUS=stopping');
    assert.ok(messages.slice(1, -1).every((m) => m === 'MAINPID=4242|WATCHDOG=1'), messages.join('\n'));
  } finally {
    py.kill();
    lines.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
