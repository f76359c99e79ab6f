/**
 * The OCPP-J link's connection: subprotocol negotiation (OCPP-J 1.6 §3.1.2, 2.0.1 part 4 §3.1.2),
 * basic auth (security profile 1), reconnect back-off, reconfigure at run time.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { SystemClock, VirtualClock, type Clock, type TimerHandle } from '../base/clock.js';
import type { OcppConfig } from '../src/config/types.js';
import { backoffDelayMs, createLink, type RpcLink } from '../src/ocpp/rpc-link.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { startCsms, type Csms } from './support/csms.js';
import { capturingLogger, closedPort, ocppConfig, tempDir, waitUntil, type CapturingLogger } from './support/ocpp-link.js';

interface Rig {
  link: RpcLink;
  log: CapturingLogger;
  db: Db;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function csms(opts: Parameters<typeof startCsms>[0] = {}): Promise<Csms> {
  const c = await startCsms(opts);
  cleanups.push(() => c.close());
  return c;
}

function rig(cfg: OcppConfig, identity = 'CP1', clock: Clock = new SystemClock(), random?: () => number): Rig {
  const dir = tempDir();
  const db = openDatabase(`${dir.path}/station.db`);
  const log = capturingLogger();
  const link = createLink({ ocpp: cfg, identity, stateDir: dir.path }, { db, clock, log, random });
  cleanups.push(async () => {
    await link.stop();
    db.close();
    dir.remove();
  });
  return { link, log, db };
}

function opened(link: RpcLink): Promise<string> {
  return new Promise((resolve) => link.once('open', resolve));
}

describe('OCPP-J subprotocol negotiation', () => {
  it('version 1.6 offers only ocpp1.6 and speaks it', async () => {
    const c = await csms();
    const { link } = rig(ocppConfig({ version: '1.6', csmsUrl: c.url }));
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp1.6');
    assert.equal(link.protocol, 'ocpp1.6');
    assert.deepEqual(c.clients().map((x) => x.protocol), ['ocpp1.6']);
    const res = await link.call<{ status: string }>('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
    assert.equal(res.status, 'Accepted');
  });

  it('version 2.0.1 offers only ocpp2.0.1 and speaks it', async () => {
    const c = await csms();
    const { link } = rig(ocppConfig({ version: '2.0.1', csmsUrl: c.url }));
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp2.0.1');
    const res = await link.call<{ status: string }>('BootNotification', {
      reason: 'PowerUp',
      chargingStation: { vendorName: 'V', model: 'M' },
    });
    assert.equal(res.status, 'Accepted');
  });

  it('version auto speaks 1.6 when the CSMS only offers 1.6', async () => {
    const c = await csms({ protocols: ['ocpp1.6'] });
    const { link } = rig(ocppConfig({ version: 'auto', csmsUrl: c.url }));
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp1.6');
  });

  it('version auto speaks 2.0.1 when the CSMS offers 2.0.1', async () => {
    const c = await csms({ protocols: ['ocpp2.0.1'] });
    const { link } = rig(ocppConfig({ version: 'auto', csmsUrl: c.url }));
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp2.0.1');
  });

  it('version auto speaks what a CSMS supporting both prefers (here 1.6 first)', async () => {
    const c = await csms({ protocols: ['ocpp1.6', 'ocpp2.0.1'] });
    const { link } = rig(ocppConfig({ version: 'auto', csmsUrl: c.url }));
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp1.6');
  });

  it('one CALL at a time: the next one leaves only when the previous is answered (OCPP-J §4.1.1)', async () => {
    const c = await csms();
    const order: string[] = [];
    let release: () => void = () => undefined;
    c.setHandler('Heartbeat', () => {
      order.push('csms got Heartbeat');
      return new Promise((resolve) => {
        release = () => resolve({ currentTime: new Date().toISOString() });
      });
    });
    c.setHandler('StatusNotification', () => {
      order.push('csms got StatusNotification');
      return {};
    });
    const { link } = rig(ocppConfig({ csmsUrl: c.url }));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    const first = link.call('Heartbeat', {});
    const second = link.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    await waitUntil(() => order.length === 1, 5000, 'first call');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(order, ['csms got Heartbeat']);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['csms got Heartbeat', 'csms got StatusNotification']);
  });

  it('a CSMS that selects no subprotocol is a logged error; the link closes and retries', async () => {
    const c = await csms({ protocols: ['ocpp2.0.1'] });
    const { link, log } = rig(ocppConfig({ version: '1.6', csmsUrl: c.url }));
    let opens = 0;
    link.on('open', () => opens++);
    await link.start();
    await waitUntil(() => log.lines('error').filter((l) => /subprotocol/.test(l)).length >= 2, 5000, 'two subprotocol errors');
    assert.match(log.lines('error')[0]!, /no agreed subprotocol.*offered ocpp1\.6/);
    assert.equal(opens, 0);
    assert.equal(link.connected, false);
  });

  it('a CSMS that selects a subprotocol we did not offer is a logged error; the link closes and retries', async () => {
    // ocpp-rpc's server never does this, so a hand-written WebSocket handshake plays the broken CSMS.
    const upgrades: string[] = [];
    const sockets = new Set<Socket>();
    const server = createServer();
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      sockets.add(socket);
      upgrades.push(String(req.headers['sec-websocket-protocol']));
      const accept = createHash('sha1')
        .update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ocpp1.5\r\n\r\n`,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    );
    const port = (server.address() as { port: number }).port;
    const { link, log } = rig(ocppConfig({ version: 'auto', csmsUrl: `ws://127.0.0.1:${port}/ocpp` }));
    await link.start();
    await waitUntil(() => upgrades.length >= 2, 5000, 'a retry');
    assert.deepEqual(upgrades[0]!.split(/,\s*/), ['ocpp2.0.1', 'ocpp1.6']);
    assert.match(log.lines('error')[0]!, /subprotocol/);
    assert.equal(link.connected, false);
    assert.equal(link.protocol, undefined);
  });
});

describe('security profile 1: basic auth', () => {
  it('connects with the right password (sent as identity:password)', async () => {
    const c = await csms({ password: (id) => (id === 'CP-7' ? 's3cret-Pa55' : undefined) });
    const { link } = rig(ocppConfig({ csmsUrl: c.url, securityProfile: 1, password: 's3cret-Pa55' }), 'CP-7');
    const open = opened(link);
    await link.start();
    assert.equal(await open, 'ocpp1.6');
    assert.deepEqual(c.clients().map((x) => x.identity), ['CP-7']);
  });

  it('is refused with a wrong password: logged as an error, never connected, retried', async () => {
    const c = await csms({ password: 'right' });
    const { link, log } = rig(ocppConfig({ csmsUrl: c.url, securityProfile: 1, password: 'wrong' }));
    await link.start();
    await waitUntil(() => log.lines('error').filter((l) => /refused our credentials/.test(l)).length >= 2, 5000, 'refusals');
    assert.equal(link.connected, false);
    assert.deepEqual(c.clients(), []);
    // The password never reaches the logs.
    assert.ok(!JSON.stringify(log.entries).includes('wrong'));
  });

  it('passwordEncoding hex sends the key as raw bytes (1.6 AuthorizationKey, OCPP-J 1.6 §6)', async () => {
    const key = '00ff10203040506070809a0b0c0d0e0f10111213';
    const c = await csms({ password: Buffer.from(key, 'hex') });
    const { link, log } = rig(ocppConfig({ csmsUrl: c.url, securityProfile: 1, password: key, passwordEncoding: 'hex' }));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    assert.equal(log.lines('error').length, 0);
    // The same key as text is a different password.
    await link.reconfigure({ passwordEncoding: 'text' });
    await waitUntil(() => log.lines('error').some((l) => /refused our credentials/.test(l)), 5000, 'refused as text');
    assert.equal(link.connected, false);
    await assert.rejects(link.reconfigure({ passwordEncoding: 'hex', password: 'xyz' }), /hex digits/);
  });

  it('profile 1 without a password is a configuration error at start', async () => {
    const { link } = rig(ocppConfig({ securityProfile: 1 }));
    await assert.rejects(link.start(), /profile 1 needs ocpp.password/);
  });

  it('credentials inside the URL are refused (they would reach the logs)', async () => {
    const { link } = rig(ocppConfig({ csmsUrl: 'ws://CP1:pw@127.0.0.1:1/ocpp', securityProfile: 1, password: 'pw' }));
    await assert.rejects(link.start(), /must not contain credentials/);
  });

  it('profile 0 is allowed but warned about', async () => {
    const c = await csms();
    const { link, log } = rig(ocppConfig({ csmsUrl: c.url, securityProfile: 0 }));
    const open = opened(link);
    await link.start();
    await open;
    assert.match(log.lines('warn').join('\n'), /security profile 0.*no encryption/);
  });
});

/** A VirtualClock that records the delay of every timer it is given. */
class RecordingClock extends VirtualClock {
  delays: number[] = [];
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
}

describe('reconnect back-off', () => {
  it('backoffDelayMs doubles from min, is capped at max, jitter stays in the upper half', () => {
    const one = () => 1;
    const zero = () => 0;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 20, 100].map((n) => backoffDelayMs(n, 1, 30, one)),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000],
    );
    assert.deepEqual(
      [0, 1, 2, 5, 9].map((n) => backoffDelayMs(n, 1, 30, zero)),
      [500, 1000, 2000, 15000, 15000],
    );
    assert.equal(backoffDelayMs(3, 1, 30, () => 0.5), 6000);
  });

  it('failed connects are retried on the station clock with growing, capped, jittered delays', async () => {
    const port = await closedPort();
    const clock = new RecordingClock();
    const randoms = [0, 1, 0.5, 1, 1, 1, 0, 1];
    let i = 0;
    const { link } = rig(
      ocppConfig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp`, reconnect: { minDelayS: 2, maxDelayS: 20 } }),
      'CP1',
      clock,
      () => randoms[i++ % randoms.length]!,
    );
    await link.start();
    for (let n = 1; n <= 8; n++) {
      await waitUntil(() => clock.delays.length >= n, 5000, `retry ${n}`);
      await clock.advance(clock.delays[n - 1]!);
    }
    assert.deepEqual(clock.delays.slice(0, 8), [2000, 8000, 12000, 20000, 20000, 20000, 10000, 20000]);
  });

  it('after a lost connection the link reconnects by itself and emits close then open', async () => {
    const c = await csms();
    const { link } = rig(ocppConfig({ csmsUrl: c.url }));
    const events: string[] = [];
    link.on('open', (p) => events.push(`open ${p}`));
    link.on('close', () => events.push('close'));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    await c.disconnect('CP1', { force: true });
    await waitUntil(() => events.length >= 3, 5000, 'reconnect');
    assert.deepEqual(events, ['open ocpp1.6', 'close', 'open ocpp1.6']);
    assert.equal(link.connected, true);
  });

  it('a connection lost while beforeOpen runs (adapter starting) is retried; open comes only for a live one', async () => {
    const c = await csms();
    const dir = tempDir();
    const db = openDatabase(`${dir.path}/station.db`);
    let setups = 0;
    const link = createLink(
      { ocpp: ocppConfig({ csmsUrl: c.url }), identity: 'CP1' },
      {
        db,
        clock: new SystemClock(),
        log: capturingLogger(),
        beforeOpen: async () => {
          setups++;
          if (setups === 1) {
            await waitUntil(() => c.clients().length === 1, 5000, 'registered');
            await c.disconnect('CP1', { force: true });
            await new Promise((r) => setTimeout(r, 50));
          }
        },
      },
    );
    cleanups.push(async () => {
      await link.stop();
      db.close();
      dir.remove();
    });
    const events: string[] = [];
    link.on('open', () => events.push('open'));
    link.on('close', () => events.push('close'));
    await link.start();
    await waitUntil(() => events.length === 1 && link.connected, 5000, 'open after the retry');
    assert.equal(setups, 2);
    assert.deepEqual(events, ['open']);
    await link.call('Heartbeat', {});
  });

  it('listeners that throw are logged and do not break the link', async () => {
    const c = await csms();
    const { link, log } = rig(ocppConfig({ csmsUrl: c.url }));
    let opens = 0;
    link.on('open', () => {
      opens++;
      throw new Error('adapter bug on open');
    });
    link.on('close', () => {
      throw new Error('adapter bug on close');
    });
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    await c.disconnect('CP1');
    await waitUntil(() => opens === 2 && link.connected, 5000, 'reconnected');
    await link.call('Heartbeat', {});
    assert.equal(log.lines('error').filter((l) => /listener failed/.test(l)).length, 3);
  });

  it('pings detect a CSMS that went silent (half-open TCP) and the link reconnects', async () => {
    const c = await csms();
    // A TCP relay in front of the CSMS that can swallow everything, like a dead NAT entry.
    let frozen = false;
    const pairs: Socket[] = [];
    const relay = createNetServer((inbound) => {
      const outbound = connect(c.port, '127.0.0.1');
      pairs.push(inbound, outbound);
      inbound.on('data', (d) => !frozen && outbound.write(d));
      outbound.on('data', (d) => !frozen && inbound.write(d));
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of pairs) s.destroy();
          relay.close(() => r());
        }),
    );
    const port = (relay.address() as { port: number }).port;
    const { link } = rig(ocppConfig({ csmsUrl: `ws://127.0.0.1:${port}/ocpp`, pingIntervalS: 0.1 }));
    const events: string[] = [];
    link.on('open', () => events.push('open'));
    link.on('close', () => events.push('close'));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    frozen = true;
    await waitUntil(() => events.includes('close'), 5000, 'ping timeout');
    // Connections made now go through a thawed relay.
    frozen = false;
    await waitUntil(() => events.length === 3 && link.connected, 5000, 'reconnected');
    assert.deepEqual(events, ['open', 'close', 'open']);
  });

  it('a CSMS that is down (HTTP 503) is retried until it accepts', async () => {
    const c = await csms();
    c.setAccepting(false);
    const { link, log } = rig(ocppConfig({ csmsUrl: c.url }));
    await link.start();
    await waitUntil(() => log.lines('warn').filter((l) => /connection failed/.test(l)).length >= 2, 5000, 'failures');
    c.setAccepting(true);
    await waitUntil(() => link.connected, 5000, 'connected');
  });
});

describe('reconfigure at run time', () => {
  it('moves to another CSMS URL and security profile without a restart', async () => {
    const a = await csms();
    const b = await csms({ password: 'pw-b' });
    const { link } = rig(ocppConfig({ csmsUrl: a.url }));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected to A');
    await link.reconfigure({ csmsUrl: b.url, securityProfile: 1, password: 'pw-b' });
    await waitUntil(() => b.clients().length === 1 && link.connected, 5000, 'connected to B');
    await waitUntil(() => a.clients().length === 0, 5000, 'left A');
    await link.call('Heartbeat', {});
    assert.deepEqual(b.actions(), ['Heartbeat']);
  });

  it('timing alone applies to the open connection without a reconnect', async () => {
    const a = await csms();
    a.setHandler('Heartbeat', () => new Promise(() => undefined));
    const { link } = rig(ocppConfig({ csmsUrl: a.url, callTimeoutS: 30 }));
    let closes = 0;
    link.on('close', () => closes++);
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    await link.reconfigure({ callTimeoutS: 0.05, pingIntervalS: 30 });
    assert.equal(closes, 0, 'reconfigure itself did not reconnect');
    assert.equal(link.connected, true);
    await assert.rejects(link.call('Heartbeat', {}), /timeout/i);
    assert.equal(a.log.filter((e) => e.type === 'call').length, 1);
    // The unanswered CALL itself takes the connection down (2.0.1 part 2 §3.2), and the link comes back.
    assert.equal(closes, 1);
    await waitUntil(() => link.connected, 5000, 'reconnected after the timeout');
  });

  it('before start() it only records the settings', async () => {
    const a = await csms({ password: 'later' });
    const { link } = rig(ocppConfig({ csmsUrl: 'ws://127.0.0.1:1/ocpp' }));
    await link.reconfigure({ csmsUrl: a.url, securityProfile: 1, password: 'later' });
    assert.equal(link.connected, false);
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected with the recorded settings');
  });

  it('refuses a bad combination and keeps the working connection', async () => {
    const a = await csms();
    const { link } = rig(ocppConfig({ csmsUrl: a.url }));
    await link.start();
    await waitUntil(() => link.connected, 5000, 'connected');
    await assert.rejects(link.reconfigure({ securityProfile: 2, password: 'x' }), /profile 2 needs a wss:\/\/ csmsUrl/);
    assert.equal(link.connected, true);
    assert.equal(link.settings.securityProfile, 0);
  });
});

after(() => undefined);
