/**
 * Frames from the CSMS: the station answers every CALL it cannot process with the CALLERROR that
 * OCPP-J prescribes (1.6 OCPP-J §4.2.3 + errata, 2.0.1 part 4 §4.3 / §4.4) and never crashes; every
 * frame lands in the message log with secrets redacted.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createRPCError } from 'ocpp-rpc';
import { SystemClock } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import { MessageLog, REDACTED, redact } from '../src/ocpp/message-log.js';
import { createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase } from '../src/store/db.js';
import { startCsms, type Csms } from './support/csms.js';
import { capturingLogger, ocppConfig, tempDir, waitUntil } from './support/ocpp-link.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function connected(cfg: Partial<OcppConfig>): Promise<{ csms: Csms; link: RpcLink; dir: string }> {
  const csms = await startCsms();
  const dir = tempDir();
  const db = openDatabase(join(dir.path, 'station.db'));
  const link = createLink(
    { ocpp: ocppConfig({ csmsUrl: csms.url, ...cfg }), identity: 'CP1', stateDir: dir.path },
    { db, clock: new SystemClock(), log: capturingLogger() },
  );
  cleanups.push(async () => {
    await link.stop();
    await csms.close();
    db.close();
    dir.remove();
  });
  await link.start();
  await waitUntil(() => link.connected, 5000, 'connected');
  return { csms, link, dir: dir.path };
}

/** Send a raw text frame from the CSMS and return the station's CALLERROR for that message id. */
async function answerTo(csms: Csms, frame: string, messageId: string): Promise<unknown[]> {
  const from = csms.log.length;
  csms.sendRaw('CP1', frame);
  const entry = await waitUntil(
    () => csms.log.slice(from).find((e) => e.direction === 'in' && e.messageId === messageId),
    3000,
    `answer to ${frame}`,
  );
  const p = entry.payload as { errorCode: string; errorDescription: string };
  return [entry.type, entry.type === 'error' ? p.errorCode : entry.payload];
}

describe('malformed and unexpected frames (1.6)', () => {
  it('answers each with the right CALLERROR and stays connected', async () => {
    const { csms, link } = await connected({ version: '1.6' });
    link.handle('Reset', () => ({ status: 'Accepted' }));

    // 1.6 has no RpcFrameworkError: a frame that is no RPC message is a FormationViolation (table 7).
    assert.deepEqual(await answerTo(csms, 'this is not json', '-1'), ['error', 'FormationViolation']);
    assert.deepEqual(await answerTo(csms, '[2,"u1","FooBar",{}]', 'u1'), ['error', 'NotImplemented']);
    // Known to OCPP but no handler registered: NotSupported ("recognized but not supported").
    assert.deepEqual(await answerTo(csms, '[2,"u2","ClearCache",{}]', 'u2'), ['error', 'NotSupported']);
    // Schema violations, with 1.6's spelling of the codes (OCPP-J 1.6 errata §5: the typo stays).
    assert.deepEqual(await answerTo(csms, '[2,"s1","Reset",{}]', 's1'), ['error', 'OccurenceConstraintViolation']);
    assert.deepEqual(await answerTo(csms, '[2,"s2","Reset",{"type":7}]', 's2'), ['error', 'TypeConstraintViolation']);
    assert.deepEqual(await answerTo(csms, '[2,"s3","Reset",{"type":"Soft","x":1}]', 's3'), [
      'error',
      'PropertyConstraintViolation',
    ]);
    // A frame of an unknown message type is ignored in 1.6 (§4.1.3): see ocpp-link-hostile-frames.test.ts.
    assert.deepEqual(await answerTo(csms, '{"not":"an array"}', '-1'), ['error', 'FormationViolation']);

    // A valid call after all that is handled.
    assert.deepEqual(await answerTo(csms, '[2,"ok1","Reset",{"type":"Soft"}]', 'ok1'), ['result', { status: 'Accepted' }]);
    assert.equal(link.connected, true);
    await link.call('Heartbeat', {});
  });

  it('a handler that throws an RPC error sends that CALLERROR; any other throw a GenericError', async () => {
    const { csms, link } = await connected({ version: '1.6' });
    link.handle('ClearCache', () => {
      throw createRPCError('NotSupported', 'no cache here');
    });
    link.handle('UnlockConnector', () => {
      throw new Error('bug');
    });
    assert.deepEqual(await answerTo(csms, '[2,"h1","ClearCache",{}]', 'h1'), ['error', 'NotSupported']);
    assert.deepEqual(await answerTo(csms, '[2,"h2","UnlockConnector",{"connectorId":1}]', 'h2'), ['error', 'GenericError']);
    assert.equal(link.connected, true);
  });

  it('a handler answer that breaks the schema is not sent: InternalError instead', async () => {
    const { csms, link } = await connected({ version: '1.6' });
    link.handle('ClearCache', () => ({ status: 'Maybe' }));
    assert.deepEqual(await answerTo(csms, '[2,"h3","ClearCache",{}]', 'h3'), ['error', 'InternalError']);
  });

  it('handlers get the params and the message id', async () => {
    const { csms, link } = await connected({ version: '1.6' });
    const seen: unknown[] = [];
    link.handle('ChangeAvailability', (params, ctx) => {
      seen.push(params, ctx);
      return { status: 'Scheduled' };
    });
    const res = await csms.call('CP1', 'ChangeAvailability', { connectorId: 0, type: 'Inoperative' });
    assert.deepEqual(res, { status: 'Scheduled' });
    assert.equal(seen.length, 2);
    assert.deepEqual(seen[0], { connectorId: 0, type: 'Inoperative' });
    assert.equal((seen[1] as { action: string }).action, 'ChangeAvailability');
  });
});

describe('malformed frames (2.0.1)', () => {
  it('uses the 2.0.1 spelling of the codes, NotSupported for known unhandled actions, NotImplemented for unknown ones', async () => {
    const { csms } = await connected({ version: '2.0.1' });
    assert.deepEqual(await answerTo(csms, '[2,"a","Reset",{"type":"Immediate"}]', 'a'), ['error', 'NotSupported']);
    assert.deepEqual(await answerTo(csms, '[2,"b","NoSuchThing",{}]', 'b'), ['error', 'NotImplemented']);
  });

  it('a schema violation of a handled action is OccurrenceConstraintViolation (2.0.1 spelling)', async () => {
    const { csms, link } = await connected({ version: '2.0.1' });
    link.handle('Reset', () => ({ status: 'Accepted' }));
    assert.deepEqual(await answerTo(csms, '[2,"c","Reset",{}]', 'c'), ['error', 'OccurrenceConstraintViolation']);
    assert.deepEqual(await answerTo(csms, '[2,"d","Reset",{"type":"Immediate"}]', 'd'), ['result', { status: 'Accepted' }]);
  });

  it('outbound calls that break the schema are refused locally, never sent', async () => {
    const { csms, link } = await connected({ version: '2.0.1' });
    await assert.rejects(link.call('BootNotification', { reason: 'PowerUp' }), /chargingStation/);
    assert.deepEqual(csms.actions(), []);
  });
});

describe('message log', () => {
  it('writes every frame in and out as a JSON line, secrets redacted', async () => {
    const { csms, link, dir } = await connected({ version: '1.6' });
    link.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
    await link.call('Heartbeat', {});
    await csms.call('CP1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: '0011223344556677' });
    await csms.call('CP1', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' });
    const path = join(dir, 'ocpp-messages.log');
    const lines = await waitUntil(() => {
      const l = existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
      return l.length >= 6 ? l : undefined;
    });
    const records = lines.map((l) => JSON.parse(l) as { t: string; dir: string; frame: unknown[] });
    assert.deepEqual(
      records.map((r) => `${r.dir} ${String(r.frame[0])} ${typeof r.frame[2] === 'string' ? r.frame[2] : ''}`),
      ['out 2 Heartbeat', 'in 3 ', 'in 2 ChangeConfiguration', 'out 3 ', 'in 2 ChangeConfiguration', 'out 3 '],
    );
    assert.ok(records.every((r) => !Number.isNaN(Date.parse(r.t))));
    assert.deepEqual(records[2]!.frame[3], { key: 'AuthorizationKey', value: REDACTED });
    assert.deepEqual(records[4]!.frame[3], { key: 'HeartbeatInterval', value: '60' });
    assert.ok(!readFileSync(path, 'utf8').includes('0011223344556677'));
  });

  it('redacts password-like fields and security variables of 2.0.1', () => {
    const setVariables = {
      setVariableData: [
        { attributeValue: 'pw!', component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } },
        { attributeValue: '30', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
      ],
    };
    assert.deepEqual(redact(setVariables), {
      setVariableData: [
        { attributeValue: REDACTED, component: { name: 'SecurityCtrlr' }, variable: { name: 'BasicAuthPassword' } },
        { attributeValue: '30', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
      ],
    });
    const profile = {
      configurationSlot: 1,
      connectionData: {
        ocppVersion: 'OCPP20',
        apn: { apn: 'x', apnPassword: 'apnpw', apnAuthentication: 'AUTO' },
        vpn: { server: 's', user: 'u', password: 'vpnpw', key: 'vpnkey', type: 'IPSec' },
      },
    };
    const out = JSON.stringify(redact(profile));
    for (const secret of ['apnpw', 'vpnpw', 'vpnkey']) assert.ok(!out.includes(secret), secret);
    assert.ok(out.includes('"user":"u"'));
    assert.deepEqual(redact([2, 'id', 'GetConfiguration', { key: ['AuthorizationKey'] }]), [
      2,
      'id',
      'GetConfiguration',
      { key: ['AuthorizationKey'] },
    ]);
    assert.deepEqual(redact({ configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: 'k' }] }), {
      configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: REDACTED }],
    });
  });

  it('rotates by size and keeps the configured number of files', () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const path = join(dir.path, 'ocpp-messages.log');
    const log = new MessageLog({ path, maxBytes: 500, files: 2 });
    for (let i = 0; i < 40; i++) log.write('out', JSON.stringify([2, `m${i}`, 'Heartbeat', {}]));
    log.close();
    assert.deepEqual(readdirSync(dir.path).sort(), ['ocpp-messages.log', 'ocpp-messages.log.1', 'ocpp-messages.log.2']);
    for (const f of readdirSync(dir.path)) assert.ok(readFileSync(join(dir.path, f)).length <= 500, f);
    const last = readFileSync(path, 'utf8').trim().split('\n').pop()!;
    assert.equal((JSON.parse(last) as { frame: unknown[] }).frame[1], 'm39');
    // Nothing lost between the current file and the first rotated one.
    const ids = [path + '.1', path]
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => (JSON.parse(l) as { frame: unknown[] }).frame[1]);
    const start = Number(String(ids[0]).slice(1));
    assert.deepEqual(ids, Array.from({ length: 40 - start }, (_, k) => `m${start + k}`));
  });

  it('can be turned off', async () => {
    const { link, dir } = await connected({ version: '1.6', messageLog: { enabled: false, maxBytes: 1000, files: 1 } });
    await link.call('Heartbeat', {});
    assert.equal(existsSync(join(dir, 'ocpp-messages.log')), false);
  });
});
