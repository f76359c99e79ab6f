import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './support/paths.js';

/** `npm run demo` is what the README tells a newcomer to run: it must keep working for both versions. */
async function runDemo(version: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'devtools', 'demo.js'), '--ocpp-version', version, '--charge-seconds', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

test('npm run demo (1.6): boot, authorize, start, stop, no CALLERROR', async () => {
  const { code, out } = await runDemo('1.6');
  assert.equal(code, 0, out);
  const calls = [...out.matchAll(/→ CSMS\s+(\w+)/g)].map((m) => m[1]);
  assert.equal(calls[0], 'BootNotification');
  for (const action of ['Authorize', 'StartTransaction', 'StopTransaction']) assert.ok(calls.includes(action), `${action} in ${calls.join(',')}`);
  assert.ok(calls.indexOf('StartTransaction') < calls.indexOf('StopTransaction'));
  assert.match(out, / 0 CALLERRORs/);
});

test('npm run demo (2.0.1): TransactionEvent Started before Ended, no CALLERROR', async () => {
  const { code, out } = await runDemo('2.0.1');
  assert.equal(code, 0, out);
  const started = out.indexOf('"eventType":"Started"');
  const ended = out.indexOf('"eventType":"Ended"');
  assert.ok(started > 0 && ended > started, out);
  assert.match(out, / 0 CALLERRORs/);
});

/**
 * Issue 10 #12: the card a newcomer copies from the README, the example config or the demo must be a
 * UID a production CSMS takes: ISO 14443 UIDs are 4 or 7 bytes (8 or 14 hex digits).
 */
test('the documented token (README, example config, demo) is a valid ISO 14443 UID: 8 or 14 hex digits', () => {
  const files = ['README.md', 'devtools/demo.ts', ...readdirSync(join(repoRoot(), 'config')).filter((f) => f.endsWith('.json')).map((f) => `config/${f}`)];
  const found: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(repoRoot(), f), 'utf8');
    const patterns = [/sim tap ([^\s`]+)/g, /"?idToken"?:\s*['"]([^'"]+)['"]/g, /"idTag":"([^"]+)"/g, /tap card ([0-9A-Za-z]+)/g];
    for (const re of patterns) for (const m of text.matchAll(re)) found.push(`${f}: ${m[1]!}`);
  }
  assert.ok(found.length >= 4, `tokens found: ${found.join(', ')}`);
  for (const entry of found) assert.match(entry.split(': ')[1]!, /^(?:[0-9A-F]{8}|[0-9A-F]{14})$/, entry);
});
