/**
 * startOcpp: the link plus the adapter of the version the CSMS speaks (fixed, or 'auto' with the last
 * negotiated version remembered in SQLite). Adapters here are fakes that record what they see.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { SystemClock } from '../base/clock.js';
import type { StationConfig } from '../src/config/types.js';
import type { AdapterFactory } from '../src/ocpp/adapter.js';
import { startOcpp, type OcppHandle } from '../src/ocpp/index.js';
import type { OcppProtocol } from '../src/ocpp/link.js';
import type { StationApi } from '../src/station/api.js';
import { openDatabase, type Db } from '../src/store/db.js';
import { getLinkValue } from '../src/store/outbox.js';
import { startCsms, type Csms } from './support/csms.js';
import { capturingLogger, closedPort, ocppConfig, tempDir, waitUntil } from './support/ocpp-link.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function fake(protocol: OcppProtocol, events: string[]): AdapterFactory {
  const v = protocol === 'ocpp1.6' ? '1.6' : '2.0.1';
  return ({ link }) => {
    const onOpen = (p: OcppProtocol) => events.push(`${v} open ${p}`);
    return {
      protocol,
      async start() {
        events.push(`${v} start`);
        link.on('open', onOpen);
      },
      async stop() {
        link.off('open', onOpen);
        events.push(`${v} stop`);
      },
    };
  };
}

function stationConfig(csmsUrl: string, version: StationConfig['ocpp']['version'], stateDir: string): StationConfig {
  return {
    station: { identity: 'CP1', vendor: 'V', model: 'M', firmwareVersion: '1' },
    ocpp: ocppConfig({ csmsUrl, version }),
    hal: { board: 'sim' },
    stateDir,
    log: { level: 'info' },
    scenarios: {},
  };
}

async function start(db: Db, dir: string, url: string, version: StationConfig['ocpp']['version'], events: string[]): Promise<OcppHandle> {
  const handle = await startOcpp({
    config: stationConfig(url, version, dir),
    // The fakes never touch the station.
    station: {} as StationApi,
    db,
    clock: new SystemClock(),
    log: capturingLogger(),
    adapters: { '1.6': fake('ocpp1.6', events), '2.0.1': fake('ocpp2.0.1', events) },
  });
  cleanups.push(() => handle.stop());
  return handle;
}

async function csms(protocols: string[], port = 0): Promise<Csms> {
  const c = await startCsms({ protocols, port });
  cleanups.push(() => c.close());
  return c;
}

function rig(): { db: Db; dir: string } {
  const dir = tempDir();
  const db = openDatabase(join(dir.path, 'station.db'));
  cleanups.push(() => {
    db.close();
    dir.remove();
  });
  return { db, dir: dir.path };
}

describe('startOcpp', () => {
  it('a fixed version starts its adapter before connecting; the adapter sees the open', async () => {
    const c = await csms(['ocpp1.6', 'ocpp2.0.1']);
    const { db, dir } = rig();
    const events: string[] = [];
    const h = await start(db, dir, c.url, '1.6', events);
    assert.equal(h.adapter()?.protocol, 'ocpp1.6');
    await waitUntil(() => events.length === 2, 5000, 'open');
    assert.deepEqual(events, ['1.6 start', '1.6 open ocpp1.6']);
    await h.stop();
    assert.deepEqual(events, ['1.6 start', '1.6 open ocpp1.6', '1.6 stop']);
  });

  it('auto with no version on record waits for the CSMS, then starts that adapter, which sees the open', async () => {
    const port = await closedPort();
    const { db, dir } = rig();
    const events: string[] = [];
    const h = await start(db, dir, `ws://127.0.0.1:${port}/ocpp`, 'auto', events);
    assert.equal(h.adapter(), undefined);
    await csms(['ocpp2.0.1'], port);
    await waitUntil(() => events.length === 2, 5000, 'adapter started');
    assert.deepEqual(events, ['2.0.1 start', '2.0.1 open ocpp2.0.1']);
    assert.equal(h.adapter()?.protocol, 'ocpp2.0.1');
    assert.equal(getLinkValue(db, 'last-protocol'), 'ocpp2.0.1');
  });

  it('auto starts the last negotiated version while offline, and switches if the CSMS picks the other', async () => {
    const port = await closedPort();
    const { db, dir } = rig();
    {
      const c = await csms(['ocpp1.6'], port);
      const events: string[] = [];
      const h = await start(db, dir, c.url, 'auto', events);
      await waitUntil(() => events.length === 2, 5000, 'first run open');
      await h.stop();
      await c.close();
      assert.equal(getLinkValue(db, 'last-protocol'), 'ocpp1.6');
    }
    const events: string[] = [];
    const h = await start(db, dir, `ws://127.0.0.1:${port}/ocpp`, 'auto', events);
    // Offline, yet the 1.6 adapter runs (it can queue transaction messages).
    assert.equal(h.adapter()?.protocol, 'ocpp1.6');
    assert.deepEqual(events, ['1.6 start']);
    await csms(['ocpp2.0.1'], port);
    await waitUntil(() => events.length === 4, 5000, 'switch');
    assert.deepEqual(events, ['1.6 start', '1.6 stop', '2.0.1 start', '2.0.1 open ocpp2.0.1']);
    assert.equal(getLinkValue(db, 'last-protocol'), 'ocpp2.0.1');
  });
});
