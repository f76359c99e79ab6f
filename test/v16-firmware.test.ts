/**
 * Firmware Management profile end to end (1.6 spec 4.4, 4.5, 5.9, 5.19): the strict CSMS asks, a local
 * HTTP server on 127.0.0.1 serves the firmware and receives the diagnostics, an install hook written by
 * the test stands in for the operator's installer.
 *
 * The wired test station's link keeps no message log, so each test writes STATE/ocpp-messages.log with
 * the real MessageLog class, as the daemon's link does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageLog } from '../src/ocpp/message-log.js';
import { startFileServer, type FileServer } from './support/file-server.js';
import { startV16Station, IDENTITY, type V16Station } from './support/v16-station.js';

interface Fixture {
  s: V16Station;
  files: FileServer;
  dir: string;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const files = await startFileServer();
  const s = await startV16Station({ v16: { MeterValueSampleInterval: '0' } });
  await s.until('boot and statuses', () => s.adapter.registration === 'Accepted' && s.calls('StatusNotification').length === 2);
  const dir = mkdtempSync(join(tmpdir(), 'v16-fw-'));
  // The adapter reads the config when a request comes: point its state directory at the test's.
  s.config.stateDir = dir;
  s.config.ocpp.password = 'hunter2-secret';
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

const call = <T = Record<string, unknown>>(s: V16Station, action: string, params: unknown): Promise<T> => s.csms.call<T>(IDENTITY, action, params);
const statuses = (s: V16Station, action: string): string[] => s.calls<{ status: string }>(action).map((c) => c.status);

function writeMessageLog(dir: string): void {
  const log = new MessageLog({ path: join(dir, 'ocpp-messages.log'), maxBytes: 300, files: 2, now: () => Date.UTC(2026, 0, 1, 8) });
  log.write('out', JSON.stringify([2, 'm1', 'Heartbeat', {}]));
  log.write('in', JSON.stringify([3, 'm1', { currentTime: '2026-01-01T08:00:00.000Z' }]));
  log.write('out', JSON.stringify([2, 'm2', 'StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' }]));
  log.close();
}

/** A hook that records its argument and the file's content, and waits for DIR/go when wait is set. */
function hook(dir: string, wait = false): string {
  const script = join(dir, 'install.sh');
  writeFileSync(
    script,
    [
      `printf '%s\\n' "$1" > '${dir}/ran'`,
      `cat "$1" >> '${dir}/ran'`,
      // Also ends when the test's directory is gone (a hook of a run cut short must not outlive the test).
      wait ? `while [ ! -f '${dir}/go' ] && [ -d '${dir}' ]; do sleep 0.02; done` : '',
      'exit 0',
    ].join('\n'),
  );
  return `/bin/sh ${script}`;
}

test('5.9 / 4.4 GetDiagnostics: fileName in the answer, the message log (rotations too) and the redacted config uploaded, Uploading → Uploaded, then Idle on TriggerMessage', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    assert.ok(existsSync(join(f.dir, 'ocpp-messages.log.1')), 'the log rotated: the upload must take both files');
    f.files.accept('/diag');
    const r = await call<{ fileName?: string }>(f.s, 'GetDiagnostics', { location: `${f.files.url}/diag`, retries: 1, retryInterval: 5 });
    assert.match(r.fileName ?? '', /^CP-V16-diagnostics-.*\.txt$/);
    await f.s.until('Uploaded', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 2, 2000);
    assert.deepEqual(statuses(f.s, 'DiagnosticsStatusNotification'), ['Uploading', 'Uploaded']);
    const up = f.files.requests.filter((x) => x.path === '/diag');
    assert.equal(up.length, 1);
    assert.equal(up[0]!.method, 'POST');
    assert.match(up[0]!.contentType ?? '', /^multipart\/form-data; boundary=/);
    const body = up[0]!.body.toString();
    assert.ok(body.includes(`filename="${r.fileName}"`));
    assert.ok(body.includes('"Heartbeat"'), 'the rotated message log lines are in the upload');
    assert.ok(body.includes('"StatusNotification"'), 'the current message log lines are in the upload');
    assert.ok(body.indexOf('"Heartbeat"') < body.indexOf('"StatusNotification"'), 'oldest first');
    assert.ok(body.includes('"identity": "CP-V16"'), 'the config is in the upload');
    assert.ok(!body.includes('hunter2-secret'), 'the password is redacted');
    assert.deepEqual(await call(f.s, 'TriggerMessage', { requestedMessage: 'DiagnosticsStatusNotification' }), { status: 'Accepted' });
    await f.s.until('triggered status', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 3);
    assert.equal(statuses(f.s, 'DiagnosticsStatusNotification')[2], 'Idle');
  } finally {
    await f.close();
  }
});

test('5.9 GetDiagnostics to a location that answers 404: 1 + retries attempts retryInterval apart, then UploadFailed; ftp:// fails at once', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    await call(f.s, 'GetDiagnostics', { location: `${f.files.url}/nowhere`, retries: 2, retryInterval: 10 });
    await f.s.until('first attempt', () => f.files.requests.length === 1, 2000);
    await f.s.run(9_000);
    assert.equal(f.files.requests.length, 1, 'the retry waits retryInterval on the station clock');
    await f.s.until('UploadFailed', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 2, 2000);
    assert.deepEqual(statuses(f.s, 'DiagnosticsStatusNotification'), ['Uploading', 'UploadFailed']);
    assert.equal(f.files.requests.filter((x) => x.path === '/nowhere').length, 3);

    await call(f.s, 'GetDiagnostics', { location: 'ftp://user:pw@127.0.0.1/diag', retries: 3, retryInterval: 10 });
    await f.s.until('ftp UploadFailed', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 4);
    assert.deepEqual(statuses(f.s, 'DiagnosticsStatusNotification').slice(2), ['Uploading', 'UploadFailed']);
    assert.ok(f.s.log.entries.some((e) => e.level === 'error' && /FTP is not supported/.test(e.msg)));
    assert.ok(!JSON.stringify(f.s.log.entries).includes('user:pw'), 'credentials in the URL are not logged');
  } finally {
    await f.close();
  }
});

test('issue 10 #9: GetDiagnostics with retries 1000000, retryInterval 0: at most 1 + 5 attempts (maintenance defaults), at least 10 s apart, then UploadFailed', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    await call(f.s, 'GetDiagnostics', { location: `${f.files.url}/nowhere`, retries: 1_000_000, retryInterval: 0 });
    await f.s.until('first attempt', () => f.files.requests.length === 1, 2000);
    await f.s.run(9_000, 500);
    assert.equal(f.files.requests.length, 1, 'retryInterval 0 is raised to the 10 s minimum');
    await f.s.run(60_000, 500);
    await f.s.until('UploadFailed', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 2, 2000);
    assert.deepEqual(statuses(f.s, 'DiagnosticsStatusNotification'), ['Uploading', 'UploadFailed']);
    assert.equal(f.files.requests.length, 6, 'retries capped at maintenance.transferMaxRetries (5)');
    assert.ok(f.s.log.entries.some((e) => e.level === 'warn' && /within the configured bounds/.test(e.msg)));
  } finally {
    await f.close();
  }
});

test('issue 10 #9: UpdateFirmware retries follow maintenance.transferMaxRetries / transferMinRetryIntervalS from the config', async () => {
  const f = await fixture();
  try {
    f.s.config.maintenance = { transferMaxRetries: 1, transferMinRetryIntervalS: 60 };
    await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/missing.bin`, retrieveDate: '2020-01-01T00:00:00Z', retries: 50, retryInterval: 1 });
    await f.s.until('first download', () => f.files.requests.length === 1, 2000);
    await f.s.run(50_000, 1000);
    assert.equal(f.files.requests.length, 1, 'retryInterval 1 is raised to 60 s');
    await f.s.run(20_000, 1000);
    await f.s.until('DownloadFailed', () => statuses(f.s, 'FirmwareStatusNotification').length === 2, 2000);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'DownloadFailed']);
    assert.equal(f.files.requests.length, 2, '1 + transferMaxRetries (1)');
  } finally {
    await f.close();
  }
});

test('5.19 / 4.5 UpdateFirmware waits for retrieveDate, then Downloading → Downloaded → Installing → Installed; the hook gets the file; TriggerMessage reports the real status; restart once idle', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/station-2.0.bin', 'FIRMWARE-IMAGE-2.0');
    f.s.config.maintenance = { firmwareInstallCommand: hook(f.dir, true) };
    const restarts: string[] = [];
    f.s.station.on('restart-requested', (reason) => restarts.push(reason));
    // CSMS time (the station keeps an offset to it from BootNotification.conf): real time at boot + little.
    const retrieveDate = new Date(Date.now() + 3_600_000).toISOString();
    assert.deepEqual(await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/station-2.0.bin`, retrieveDate }), {});
    await f.s.run(3_000_000, 60_000);
    assert.equal(f.files.requests.length, 0, 'nothing before retrieveDate');
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), []);
    await f.s.run(600_000, 60_000);
    await f.s.until('Installing', () => statuses(f.s, 'FirmwareStatusNotification').length === 3, 2000);
    assert.deepEqual(await call(f.s, 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    await f.s.until('triggered', () => statuses(f.s, 'FirmwareStatusNotification').length === 4);
    writeFileSync(join(f.dir, 'go'), '');
    await f.s.until('Installed', () => statuses(f.s, 'FirmwareStatusNotification').length === 5, 2000);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'Downloaded', 'Installing', 'Installing', 'Installed']);
    const ran = readFileSync(join(f.dir, 'ran'), 'utf8').split('\n');
    assert.equal(ran[0], join(f.dir, 'firmware', 'station-2.0.bin'));
    assert.equal(ran[1], 'FIRMWARE-IMAGE-2.0');
    await f.s.until('restart', () => restarts.length === 1);
    assert.deepEqual(await call(f.s, 'TriggerMessage', { requestedMessage: 'FirmwareStatusNotification' }), { status: 'Accepted' });
    await f.s.until('Idle', () => statuses(f.s, 'FirmwareStatusNotification').length === 6);
    assert.equal(statuses(f.s, 'FirmwareStatusNotification')[5], 'Idle');
  } finally {
    await f.close();
  }
});

test('5.19 UpdateFirmware whose location answers 404: 1 + retries downloads, DownloadFailed, the hook never runs', async () => {
  const f = await fixture();
  try {
    f.s.config.maintenance = { firmwareInstallCommand: hook(f.dir) };
    const retrieveDate = '2020-01-01T00:00:00Z';
    await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/missing.bin`, retrieveDate, retries: 1, retryInterval: 30 });
    await f.s.until('DownloadFailed', () => statuses(f.s, 'FirmwareStatusNotification').length === 2, 2000);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'DownloadFailed']);
    assert.equal(f.files.requests.length, 2);
    assert.equal(existsSync(join(f.dir, 'ran')), false);
  } finally {
    await f.close();
  }
});

test('5.19 UpdateFirmware without an install command configured: downloaded but InstallationFailed, no restart', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/a.bin', 'IMAGE');
    const restarts: string[] = [];
    f.s.station.on('restart-requested', (reason) => restarts.push(reason));
    await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/a.bin`, retrieveDate: '2020-01-01T00:00:00Z' });
    await f.s.until('InstallationFailed', () => statuses(f.s, 'FirmwareStatusNotification').length === 4, 2000);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
    assert.ok(f.s.log.entries.some((e) => e.level === 'error' && /maintenance\.firmwareInstallCommand/.test(e.msg)));
    await f.s.run(5_000);
    assert.deepEqual(restarts, []);
  } finally {
    await f.close();
  }
});

/** Index of the CALL of action (its n-th, 0-based) among everything the Central System received. */
const nth = (s: V16Station, action: string, n: number): number => s.actions().reduce<number[]>((acc, a, i) => (a === action ? [...acc, i] : acc), [])[n] ?? -1;
const fileJobs = (s: V16Station): unknown[] => s.db.prepare('SELECT kind, status FROM file_jobs').all();

test('issue 10 #6 / 5.19: a firmware download cut by a power cut is reported DownloadFailed after the next accepted boot', async () => {
  const f = await fixture();
  try {
    await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/missing.bin`, retrieveDate: '2020-01-01T00:00:00Z', retries: 3, retryInterval: 60 });
    await f.s.until('first download attempt', () => f.files.requests.length === 1, 2000);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading']);
    assert.deepEqual(fileJobs(f.s), [{ kind: 'firmware', status: 'Downloading' }], 'the job state is in SQLite');
    await f.s.restart();
    await f.s.until('reported after the boot', () => statuses(f.s, 'FirmwareStatusNotification').length === 2);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'DownloadFailed']);
    assert.ok(nth(f.s, 'FirmwareStatusNotification', 1) > nth(f.s, 'BootNotification', 1), 'after the second BootNotification');
    await f.s.until('delivered', () => f.s.link.pendingCount() === 0);
    assert.deepEqual(fileJobs(f.s), []);
    await f.s.restart();
    await f.s.until('boot', () => nth(f.s, 'BootNotification', 2) >= 0 && f.s.adapter.registration === 'Accepted');
    await f.s.run(5000);
    assert.equal(statuses(f.s, 'FirmwareStatusNotification').length, 2, 'reported once only');
  } finally {
    await f.close();
  }
});

test('issue 10 #6 / 5.14 / 5.19: Reset while the firmware installs is Rejected; an installation cut by a power cut is InstallationFailed after the boot', async () => {
  const f = await fixture();
  try {
    f.files.serve('/fw/fw-3.bin', 'FIRMWARE-3');
    f.s.config.maintenance = { firmwareInstallCommand: hook(f.dir, true) };
    await call(f.s, 'UpdateFirmware', { location: `${f.files.url}/fw/fw-3.bin`, retrieveDate: '2020-01-01T00:00:00Z' });
    await f.s.until('Installing', () => statuses(f.s, 'FirmwareStatusNotification').length === 3, 2000);
    assert.deepEqual(await call(f.s, 'Reset', { type: 'Hard' }), { status: 'Rejected' });
    assert.deepEqual(await call(f.s, 'Reset', { type: 'Soft' }), { status: 'Rejected' });
    await f.s.restart();
    writeFileSync(join(f.dir, 'go'), ''); // let the old run's hook end
    await f.s.until('reported after the boot', () => statuses(f.s, 'FirmwareStatusNotification').length === 4);
    assert.deepEqual(statuses(f.s, 'FirmwareStatusNotification'), ['Downloading', 'Downloaded', 'Installing', 'InstallationFailed']);
    assert.ok(nth(f.s, 'FirmwareStatusNotification', 3) > nth(f.s, 'BootNotification', 1));
    assert.deepEqual(await call(f.s, 'Reset', { type: 'Soft' }), { status: 'Accepted' }, 'nothing installs any more');
  } finally {
    await f.close();
  }
});

test('issue 10 #6 / 5.9: a diagnostics upload cut by a power cut is reported UploadFailed after the next accepted boot', async () => {
  const f = await fixture();
  try {
    writeMessageLog(f.dir);
    await call(f.s, 'GetDiagnostics', { location: `${f.files.url}/nowhere`, retries: 2, retryInterval: 60 });
    await f.s.until('first attempt', () => f.files.requests.length === 1, 2000);
    assert.deepEqual(fileJobs(f.s), [{ kind: 'diagnostics', status: 'Uploading' }]);
    await f.s.restart();
    await f.s.until('reported after the boot', () => statuses(f.s, 'DiagnosticsStatusNotification').length === 2);
    assert.deepEqual(statuses(f.s, 'DiagnosticsStatusNotification'), ['Uploading', 'UploadFailed']);
    assert.ok(nth(f.s, 'DiagnosticsStatusNotification', 1) > nth(f.s, 'BootNotification', 1));
    await f.s.until('delivered', () => f.s.link.pendingCount() === 0);
    assert.deepEqual(fileJobs(f.s), []);
  } finally {
    await f.close();
  }
});

test('9.1 SupportedFeatureProfiles names FirmwareManagement', async () => {
  const f = await fixture();
  try {
    const r = await call<{ configurationKey: { key: string; value: string }[] }>(f.s, 'GetConfiguration', { key: ['SupportedFeatureProfiles'] });
    assert.match(r.configurationKey[0]?.value ?? '', /(^|,)FirmwareManagement(,|$)/);
  } finally {
    await f.close();
  }
});
