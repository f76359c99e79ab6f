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
