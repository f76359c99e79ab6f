/**
 * The shared file transfers (src/ocpp/file-transfer.ts) against a local HTTP server on 127.0.0.1: size
 * cap, digests, PUT upload, basic auth from the URL, retries on the station clock, FTP refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../base/clock.js';
import { TransferError, download, upload } from '../src/ocpp/file-transfer.js';
import { startFileServer } from './support/file-server.js';
import { memoryLog } from './support/sim-board.js';

async function withServer(fn: (url: string, dir: string, files: Awaited<ReturnType<typeof startFileServer>>) => Promise<void>): Promise<void> {
  const files = await startFileServer();
  const dir = mkdtempSync(join(tmpdir(), 'file-transfer-'));
  try {
    await fn(files.url, dir, files);
  } finally {
    await files.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const opts = (clock = new VirtualClock(), retries = 0) => ({ clock, log: memoryLog(), retries, retryIntervalS: 10 });

test('download: the file and its digests; larger than the cap fails and leaves nothing behind', async () => {
  await withServer(async (url, dir, files) => {
    files.serve('/fw.bin', 'ABCDEFGHIJ');
    const r = await download(`${url}/fw.bin`, join(dir, 'fw.bin'), 10, opts());
    assert.equal(readFileSync(r.path, 'utf8'), 'ABCDEFGHIJ');
    assert.equal(r.bytes, 10);
    assert.equal(r.sha256, createHash('sha256').update('ABCDEFGHIJ').digest('hex'));
    await assert.rejects(download(`${url}/fw.bin`, join(dir, 'big.bin'), 9, opts()), /larger than 9 bytes/);
    assert.equal(existsSync(join(dir, 'big.bin')), false);
    assert.equal(existsSync(join(dir, 'big.bin.part')), false);
  });
});

test('download retries 404 after retryIntervalS on the station clock, not before', async () => {
  await withServer(async (url, dir, files) => {
    const clock = new VirtualClock();
    const p = download(`${url}/missing`, join(dir, 'x'), 100, opts(clock, 1));
    let failed = false;
    p.catch(() => (failed = true));
    for (let i = 0; i < 100 && files.requests.length < 1; i++) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(9_000);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(files.requests.length, 1);
    await clock.advance(1_000);
    await assert.rejects(p, /HTTP 404/);
    assert.equal(files.requests.length, 2);
    assert.ok(failed);
  });
});

test('upload: PUT sends the bytes as they are, with basic auth from the URL; ftp:// is refused without a retry', async () => {
  await withServer(async (url, dir, files) => {
    files.accept('/up');
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'hello log');
    await upload(`${url.replace('http://', 'http://op:pw@')}/up`, path, 'a.txt', 'PUT', opts());
    assert.equal(files.requests[0]?.method, 'PUT');
    assert.equal(files.requests[0]?.body.toString(), 'hello log');
    assert.equal(files.requests[0]?.authorization, `Basic ${Buffer.from('op:pw').toString('base64')}`);
    await assert.rejects(upload('ftp://127.0.0.1/up', path, 'a.txt', 'POST', opts(new VirtualClock(), 3)), (e) => e instanceof TransferError && /FTP is not supported/.test(e.message));
    assert.equal(files.requests.length, 1);
  });
});
