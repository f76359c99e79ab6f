import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger, formatLine } from '../src/log.js';

async function capture(opts: { journald: boolean; color?: boolean; level?: 'info' | 'debug' }, write: (log: ReturnType<typeof createLogger>) => void): Promise<string[]> {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger({ level: opts.level ?? 'info', stream, journald: opts.journald, color: opts.color ?? false });
  write(log);
  await new Promise((r) => setImmediate(r));
  log.close();
  return chunks.join('').split('\n').filter(Boolean);
}

test('log under journald: priority prefix, no time stamp, key=value, one line per entry', async () => {
  const lines = await capture({ journald: true }, (log) => {
    log.info('connected', { url: 'ws://h/ocpp', attempt: 2 });
    log.warn('two\nlines', { reason: 'has spaces' });
    log.error('failed', { err: new Error('boom') });
    log.debug('hidden at info');
  });
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.equal(lines[0], '<6>info: connected url=ws://h/ocpp attempt=2');
  assert.equal(lines[1], '<4>warn: two\\nlines reason="has spaces"');
  assert.match(lines[2]!, /^<3>error: failed err="Error: boom\\n {4}at /);
});

test('log on a terminal or file: ISO time stamp first, colour only when asked', async () => {
  const [plain] = await capture({ journald: false }, (log) => log.info('hello', { n: 1 }));
  assert.match(plain!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: hello n=1$/);
  const [coloured] = await capture({ journald: false, color: true }, (log) => log.info('hello'));
  assert.ok(coloured!.endsWith('\x1b[32minfo\x1b[0m: hello'), JSON.stringify(coloured));
});

test('log level from config: debug shows debug entries', async () => {
  const lines = await capture({ journald: true, level: 'debug' }, (log) => log.debug('detail', { obj: { a: 1 } }));
  assert.deepEqual(lines, ['<7>debug: detail obj={"a":1}']);
});

test('formatLine quotes values that would break key=value parsing', () => {
  assert.equal(
    formatLine('info', 'm', { a: 'x=y', b: 'q"', c: undefined, d: null, e: true }, { journald: false, color: false }),
    'info: m a="x=y" b="q\\"" d=null e=true',
  );
});

test('a log stream that failed (EPIPE) is written no more: lines go to the fallback, no error escapes, nothing loops', async () => {
  const { Writable } = await import('node:stream');
  let primaryWrites = 0;
  const primary = new Writable({
    write(_chunk, _enc, cb) {
      primaryWrites++;
      const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      cb(err);
    },
  });
  const fallback = new PassThrough();
  const seen: string[] = [];
  fallback.on('data', (c: Buffer) => seen.push(c.toString()));
  const log = createLogger({ level: 'info', stream: primary, fallback, journald: true, color: false });
  log.info('first');
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100; i++) log.info(`line ${i}`);
  await new Promise((r) => setImmediate(r));
  assert.equal(primaryWrites, 1, 'the dead stream got no write after its error');
  const lines = seen.join('').split('\n').filter(Boolean);
  assert.equal(lines.length, 100);
  assert.equal(lines[99], '<6>info: line 99');
  log.close();
});

test('a stream that does not drain: lines beyond the backlog are dropped and counted, not buffered', async () => {
  const { Writable } = await import('node:stream');
  const { LOG_BACKLOG_BYTES } = await import('../src/log.js');
  let release: (() => void) | undefined;
  const chunks: string[] = [];
  const stalled = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      // The first write never completes until released: everything after it waits in the buffer.
      if (!release) release = () => cb();
      else cb();
    },
  });
  const log = createLogger({ level: 'info', stream: stalled, journald: true, color: false });
  const big = 'x'.repeat(1000);
  for (let i = 0; i < 5000; i++) log.info(big);
  assert.ok(stalled.writableLength <= LOG_BACKLOG_BYTES + 2000, `backlog ${stalled.writableLength}`);
  release!();
  await new Promise((r) => setImmediate(r));
  log.info('after');
  await new Promise((r) => setImmediate(r));
  const text = chunks.join('');
  assert.match(text, /warn: \d+ log line\(s\) dropped: the log stream was closed or did not drain/);
  assert.ok(text.endsWith('<6>info: after\n'));
  log.close();
});
