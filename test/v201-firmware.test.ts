/**
 * L01 UpdateFirmware (without signature checks) and N01 GetLog end to end: the strict 2.0.1 CSMS (every
 * frame checked against the official schemas) asks, a local HTTP server on 127.0.0.1 serves the firmware
 * and receives the log, an install hook written by the test stands in for the operator's installer.
 *
 * The wired test station's link keeps no message log, so the tests write STATE/ocpp-messages.log with
 * the real MessageLog class, as the daemon's link does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageLog } from '../src/ocpp/message-log.js';
import { startFileServer, type FileServer } from './support/file-server.js';
import { bootedV201Station, startCharging, type V201Station } from './support/v201-station.js';

interface Fixture {
  s: V201Station;
  files: FileServer;
  dir: string;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const files = await startFileServer();
  const s = await bootedV201Station();
  const dir = mkdtempSync(join(tmpdir(), 'v201-fw-'));
  // The adapter reads the config when a request comes: point its state directory at the test's.
  s.config.stateDir = dir;
  return {
    s,
    files,
    dir,
    async close() {
      try {
        await s.close();
      } finally {
        await files.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

type Note = { status: string; requestId?: number };
const notes = (s: V201Station, action: string): Note[] => s.calls<Note>(action);

function writeMessageLog(dir: string): void {
  const log = new MessageLog({ path: join(dir, 'ocpp-messages.log'), maxBytes: 100_000, files: 2, now: () => Date.UTC(2026, 0, 1, 8) });
  log.write('out', JSON.stringify([2, 'm1', 'Heartbeat', {}]));
  log.write('in', JSON.stringify([2, 'c1', 'SetVariables', { setVariableData: [{ attributeValue: 'topsecret', component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } }] }]));
  log.close();
}

function hook(dir: string): string {
  const script = join(dir, 'install.sh');
  writeFileSync(script, [`printf '%s\\n' "$1" > '${dir}/ran'`, `cat "$1" >> '${dir}/ran'`, 'exit 0'].join('\n'));
  return `/bin/sh ${script}`;
}

test('TC_N_35_CS N01.FR.01/02/04/07/08/09/19 GetLog DiagnosticsLog: Accepted with filename, the message log uploaded (POST, Content-Disposition filename), Uploading → Uploaded with the requestId', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    f.files.accept('/logs');
    const r = await f.s.call<{ status: string; filename?: string }>('GetLog', {
      logType: 'DiagnosticsLog',
      requestId: 41,
      retries: 1,
      retryInterval: 5,
      log: { remoteLocation: `${f.files.url}/logs` },
    });
    assert.equal(r.status, 'Accepted');
    assert.match(r.filename ?? '', /^CP-V201-diagnostics-.*\.txt$/);
    await f.s.until('Uploaded', () => notes(f.s, 'LogStatusNotification').length === 2, 2000);
    assert.deepEqual(notes(f.s, 'LogStatusNotification'), [
      { status: 'Uploading', requestId: 41 },
      { status: 'Uploaded', requestId: 41 },
    ]);
    const up = f.files.requests.filter((x) => x.path === '/logs');
    assert.equal(up.length, 1);
    const body = up[0]!.body.toString();
    assert.ok(body.includes(`Content-Disposition: form-data; name="file"; filename="${r.filename}"`));
    assert.ok(body.includes('"Heartbeat"'), 'the message log lines are in the upload');
    assert.ok(body.includes('"SetVariables"'));
    assert.ok(!body.includes('topsecret'), 'secrets stay redacted');
    // F06.FR.15 / N01.FR.13: nothing under way → Idle without requestId.
    assert.deepEqual(await f.s.call('TriggerMessage', { requestedMessage: 'LogStatusNotification' }), { status: 'Accepted' });
    await f.s.until('triggered', () => notes(f.s, 'LogStatusNotification').length === 3);
    assert.deepEqual(notes(f.s, 'LogStatusNotification')[2], { status: 'Idle' });
  } finally {
    await f.close();
  }
});

test('N01.FR.10 GetLog to a location answering 404: 1 + retries attempts, then UploadFailure; N01.FR.05 SecurityLog is Rejected', async () => {
  const f = await fixture();
  try {
    const r = await f.s.call<{ status: string }>('GetLog', {
      logType: 'DiagnosticsLog',
      requestId: 7,
      retries: 2,
      retryInterval: 10,
      log: { remoteLocation: `${f.files.url}/missing` },
    });
    assert.equal(r.status, 'Accepted');
    await f.s.until('UploadFailure', () => notes(f.s, 'LogStatusNotification').length === 2, 2000);
    assert.deepEqual(notes(f.s, 'LogStatusNotification'), [
      { status: 'Uploading', requestId: 7 },
      { status: 'UploadFailure', requestId: 7 },
    ]);
    assert.equal(f.files.requests.length, 3);
    assert.deepEqual(await f.s.call('GetLog', { logType: 'SecurityLog', requestId: 8, log: { remoteLocation: `${f.files.url}/logs` } }), { status: 'Rejected' });
  } finally {
    await f.close();
  }
});

test('issue 10 #9 N01: GetLog with retries 1000000, retryInterval 0: at most 1 + 5 attempts, at least 10 s apart, then UploadFailure', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    const r = await f.s.call('GetLog', { logType: 'DiagnosticsLog', requestId: 31, retries: 1_000_000, retryInterval: 0, log: { remoteLocation: `${f.files.url}/nowhere` } });
    assert.equal(r.status, 'Accepted');
    await f.s.until('first attempt', () => f.files.requests.length === 1, 2000);
    await f.s.run(9_000, 500);
    assert.equal(f.files.requests.length, 1, 'retryInterval 0 is raised to the 10 s minimum');
    await f.s.run(60_000, 500);
    await f.s.until('UploadFailure', () => notes(f.s, 'LogStatusNotification').length === 2, 2000);
    assert.deepEqual(notes(f.s, 'LogStatusNotification'), [
      { status: 'Uploading', requestId: 31 },
      { status: 'UploadFailure', requestId: 31 },
    ]);
    assert.equal(f.files.requests.length, 6);
  } finally {
    await f.close();
  }
});

const nth = (s: V201Station, action: string, n: number): number => s.actions().reduce<number[]>((acc, a, i) => (a === action ? [...acc, i] : acc), [])[n] ?? -1;
const fileJobs = (s: V201Station): unknown[] => s.db.prepare('SELECT kind, status, request_id FROM file_jobs').all();

test('issue 10 #6 N01.FR.07: a log upload cut by a power cut is reported UploadFailure with its requestId after the next accepted boot', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    await f.s.call('GetLog', { logType: 'DiagnosticsLog', requestId: 44, retries: 2, retryInterval: 60, log: { remoteLocation: `${f.files.url}/nowhere` } });
    await f.s.until('first attempt', () => f.files.requests.length === 1, 2000);
    assert.deepEqual(fileJobs(f.s), [{ kind: 'diagnostics', status: 'Uploading', request_id: 44 }]);
    await f.s.restart();
    await f.s.until('reported after the boot', () => notes(f.s, 'LogStatusNotification').length === 2);
    assert.deepEqual(notes(f.s, 'LogStatusNotification'), [
      { status: 'Uploading', requestId: 44 },
      { status: 'UploadFailure', requestId: 44 },
    ]);
    assert.ok(nth(f.s, 'LogStatusNotification', 1) > nth(f.s, 'BootNotification', 1), 'after the second BootNotification');
    await f.s.until('delivered', () => f.s.link.pendingCount() === 0);
    assert.deepEqual(fileJobs(f.s), []);
  } finally {
    await f.close();
  }
});

test('issue 10 #6 B11.FR.06 / L01.FR.10: Reset while the firmware installs is Rejected; an installation cut by a power cut is InstallationFailed (requestId) after the boot; a cut download DownloadFailed', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/image-9.bin', 'NEW-FIRMWARE-9');
    const script = join(f.dir, 'install.sh');
    writeFileSync(script, `while [ ! -f '${f.dir}/go' ] && [ -d '${f.dir}' ]; do sleep 0.02; done\nexit 0\n`);
    f.s.config.maintenance = { firmwareInstallCommand: `/bin/sh ${script}` };
    const now = new Date(f.s.clock.now()).toISOString();
    await f.s.call('UpdateFirmware', { requestId: 9, firmware: { location: `${f.files.url}/fw/image-9.bin`, retrieveDateTime: now } });
    await f.s.until('Installing', () => notes(f.s, 'FirmwareStatusNotification').length === 3, 2000);
    assert.deepEqual(await f.s.call('Reset', { type: 'Immediate' }), { status: 'Rejected' });
    assert.deepEqual(await f.s.call('Reset', { type: 'OnIdle' }), { status: 'Rejected' });
    await f.s.restart();
    writeFileSync(join(f.dir, 'go'), ''); // let the old run's hook end
    await f.s.until('reported after the boot', () => notes(f.s, 'FirmwareStatusNotification').length === 4);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification'), ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed'].map((status) => ({ status, requestId: 9 })));
    assert.ok(nth(f.s, 'FirmwareStatusNotification', 3) > nth(f.s, 'BootNotification', 1));

    await f.s.call('UpdateFirmware', { requestId: 10, retries: 3, retryInterval: 60, firmware: { location: `${f.files.url}/fw/missing.bin`, retrieveDateTime: now } });
    await f.s.until('Downloading', () => notes(f.s, 'FirmwareStatusNotification').length === 5, 2000);
    await f.s.restart();
    await f.s.until('reported after the boot', () => notes(f.s, 'FirmwareStatusNotification').length === 6);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification')[5], { status: 'DownloadFailed', requestId: 10 });
  } finally {
    await f.close();
  }
});

test('TC_L_03_CS L01.FR.01/10/13/28/31 UpdateFirmware with a future retrieveDateTime: DownloadScheduled, then Downloading → Downloaded → Installing → Installed (requestId each), the hook gets the file, SecurityEvent FirmwareUpdated, restart only once idle', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/image-3.bin', 'NEW-FIRMWARE-3');
    f.s.config.maintenance = { firmwareInstallCommand: hook(f.dir) };
    const restarts: string[] = [];
    f.s.station.on('restart-requested', (reason) => restarts.push(reason));
    await startCharging(f.s);
    const retrieveDateTime = new Date(f.s.clock.now() + 600_000).toISOString();
    const r = await f.s.call('UpdateFirmware', { requestId: 5, retries: 1, retryInterval: 5, firmware: { location: `${f.files.url}/fw/image-3.bin`, retrieveDateTime } });
    assert.deepEqual(r, { status: 'Accepted' });
    await f.s.until('DownloadScheduled', () => notes(f.s, 'FirmwareStatusNotification').length === 1);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification'), [{ status: 'DownloadScheduled', requestId: 5 }]);
    // L01.FR.26: the trigger repeats the last status sent.
    assert.deepEqual(await f.s.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    await f.s.until('triggered', () => notes(f.s, 'FirmwareStatusNotification').length === 2);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification')[1], { status: 'DownloadScheduled', requestId: 5 });
    await f.s.run(590_000, 10_000);
    assert.equal(f.files.requests.length, 0, 'nothing before retrieveDateTime');
    await f.s.run(10_000);
    await f.s.until('Installed', () => notes(f.s, 'FirmwareStatusNotification').length === 6, 2000);
    assert.deepEqual(
      notes(f.s, 'FirmwareStatusNotification').slice(2),
      ['Downloading', 'Downloaded', 'Installing', 'Installed'].map((status) => ({ status, requestId: 5 })),
    );
    const ran = readFileSync(join(f.dir, 'ran'), 'utf8').split('\n');
    assert.equal(ran[0], join(f.dir, 'firmware', 'image-3.bin'));
    assert.equal(ran[1], 'NEW-FIRMWARE-3');
    await f.s.until('FirmwareUpdated', () => f.s.calls<{ type: string }>('SecurityEventNotification').some((e) => e.type === 'FirmwareUpdated'));
    // The charge goes on: the restart waits until the station is idle.
    await f.s.run(5_000);
    assert.deepEqual(restarts, []);
    f.s.sim.unplug(1);
    await f.s.until('restart once idle', () => restarts.length === 1);
    // L01.FR.25: after Installed the trigger answers Idle.
    assert.deepEqual(await f.s.call('TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    await f.s.until('Idle', () => notes(f.s, 'FirmwareStatusNotification').length === 7);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification')[6], { status: 'Idle' });
  } finally {
    await f.close();
  }
});

test('TC_L_07_CS L01.FR.30 UpdateFirmware whose location answers 404: DownloadFailed after 1 + retries attempts; L01.FR.24 a waiting update is replaced (AcceptedCanceled)', async () => {
  const f = await fixture();
  try {
    f.s.config.maintenance = { firmwareInstallCommand: hook(f.dir) };
    const later = new Date(f.s.clock.now() + 3_600_000).toISOString();
    assert.deepEqual(await f.s.call('UpdateFirmware', { requestId: 1, firmware: { location: `${f.files.url}/fw/x.bin`, retrieveDateTime: later } }), { status: 'Accepted' });
    const now = new Date(f.s.clock.now()).toISOString();
    assert.deepEqual(
      await f.s.call('UpdateFirmware', { requestId: 2, retries: 1, retryInterval: 20, firmware: { location: `${f.files.url}/fw/missing.bin`, retrieveDateTime: now } }),
      { status: 'AcceptedCanceled' },
    );
    await f.s.until('DownloadFailed', () => notes(f.s, 'FirmwareStatusNotification').some((n) => n.status === 'DownloadFailed'), 2000);
    assert.deepEqual(notes(f.s, 'FirmwareStatusNotification'), [
      { status: 'DownloadScheduled', requestId: 1 },
      { status: 'Downloading', requestId: 2 },
      { status: 'DownloadFailed', requestId: 2 },
    ]);
    assert.deepEqual(
      f.files.requests.map((x) => x.path),
      ['/fw/missing.bin', '/fw/missing.bin'],
    );
    assert.equal(existsSync(join(f.dir, 'ran')), false);
  } finally {
    await f.close();
  }
});

test('TC_L_09_CS UpdateFirmware without an install command configured: InstallationFailed, no restart', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/b.bin', 'IMAGE');
    const restarts: string[] = [];
    f.s.station.on('restart-requested', (reason) => restarts.push(reason));
    const now = new Date(f.s.clock.now()).toISOString();
    assert.deepEqual(await f.s.call('UpdateFirmware', { requestId: 9, firmware: { location: `${f.files.url}/fw/b.bin`, retrieveDateTime: now } }), { status: 'Accepted' });
    await f.s.until('InstallationFailed', () => notes(f.s, 'FirmwareStatusNotification').length === 4, 2000);
    assert.deepEqual(
      notes(f.s, 'FirmwareStatusNotification'),
      ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed'].map((status) => ({ status, requestId: 9 })),
    );
    assert.ok(f.s.log.entries.some((e) => e.level === 'error' && /maintenance\.firmwareInstallCommand/.test(e.msg)));
    await f.s.run(5_000);
    assert.deepEqual(restarts, []);
  } finally {
    await f.close();
  }
});
