/**
 * Starts the OCPP side: the link and the adapter of the version the CSMS speaks.
 *
 * The adapters are passed in (not imported) so this file depends on neither v16/ nor v201/.
 *
 * Version 'auto': the adapter is chosen when the CSMS selects the subprotocol. Before the first
 * connection the adapter of the last negotiated version (kept in SQLite) is started, so the station
 * can queue transaction messages while still offline after a reboot. On a station that never
 * connected there is no adapter until the first connection: sessions still run in the station core,
 * but the adapter reports only what it sees after it started (it replays nothing it did not see). If
 * the CSMS later selects the other version, the old adapter is stopped and the other one started;
 * messages the old adapter had queued fail the new version's schema check and go to the dead-letter
 * table at once (logged, 'message-dead'); they are not converted. An adapter's stop() must therefore remove the
 * listeners it put on the link; startOcpp clears the old handlers (the next adapter registers its own).
 */
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { StationConfig } from '../config/types.js';
import type { StationApi } from '../station/api.js';
import type { Db } from '../store/db.js';
import { getLinkValue, setLinkValue } from '../store/outbox.js';
import type { AdapterFactory, OcppAdapter } from './adapter.js';
import type { OcppProtocol } from './link.js';
import { createLink, type RpcLink } from './rpc-link.js';

export { createLink, RpcLink, backoffDelayMs, protocolsFor } from './rpc-link.js';
export type { LinkDeps, LinkOptions } from './rpc-link.js';
export { MessageLog, redact } from './message-log.js';
export { transportOptions, SecurityConfigError } from './security.js';

export type OcppVersion = '1.6' | '2.0.1';

export interface StartOcppOptions {
  config: StationConfig;
  station: StationApi;
  db: Db;
  clock: Clock;
  log: Logger;
  /** Message log directory; default config.stateDir. */
  stateDir?: string;
  adapters: Partial<Record<OcppVersion, AdapterFactory>>;
  /** Jitter source for the reconnect back-off (tests). */
  random?: () => number;
  /**
   * Connect at once (default). The daemon passes false and calls connect() after the station has
   * started, so the first BootNotification already knows the reset reason and recovered sessions.
   */
  connect?: boolean;
}

export interface OcppHandle {
  link: RpcLink;
  /** The running adapter (undefined while version 'auto' has never connected). */
  adapter(): OcppAdapter | undefined;
  /** Start connecting (only needed when started with connect: false). */
  connect(): Promise<void>;
  stop(): Promise<void>;
}

const LAST_PROTOCOL_KEY = 'last-protocol';

export function versionOf(protocol: OcppProtocol): OcppVersion {
  return protocol === 'ocpp1.6' ? '1.6' : '2.0.1';
}

export function protocolOf(version: OcppVersion): OcppProtocol {
  return version === '1.6' ? 'ocpp1.6' : 'ocpp2.0.1';
}

export async function startOcpp(o: StartOcppOptions): Promise<OcppHandle> {
  const { config, station, db, clock, log } = o;
  let adapter: OcppAdapter | undefined;
  let link: RpcLink | undefined = undefined;

  const useAdapter = async (protocol: OcppProtocol): Promise<void> => {
    if (adapter?.protocol === protocol) return;
    if (adapter) {
      log.warn('OCPP: the CSMS now speaks another version; switching adapters', { from: adapter.protocol, to: protocol });
      const old = adapter;
      adapter = undefined;
      await old.stop();
      link!.clearHandlers();
    }
    const version = versionOf(protocol);
    const factory = o.adapters[version];
    if (!factory) throw new Error(`no OCPP ${version} adapter is available`);
    adapter = factory({ link: link!, station, db, clock, log, config });
    await adapter.start();
  };

  link = createLink(
    { ocpp: config.ocpp, identity: config.station.identity, stateDir: o.stateDir ?? config.stateDir },
    {
      db,
      clock,
      log,
      random: o.random,
      beforeOpen: async (protocol) => {
        if (getLinkValue(db, LAST_PROTOCOL_KEY) !== protocol) setLinkValue(db, LAST_PROTOCOL_KEY, protocol);
        await useAdapter(protocol);
      },
    },
  );

  const choice = config.ocpp.version;
  const initial: OcppProtocol | undefined =
    choice === 'auto' ? (getLinkValue(db, LAST_PROTOCOL_KEY) as OcppProtocol | undefined) : protocolOf(choice);
  if (initial) await useAdapter(initial);
  else log.info('OCPP version auto: the adapter starts when the CSMS selects a subprotocol');

  if (o.connect ?? true) await link.start();

  return {
    link,
    adapter: () => adapter,
    connect: () => link.start(),
    async stop() {
      const a = adapter;
      adapter = undefined;
      await a?.stop();
      await link.stop();
    },
  };
}
