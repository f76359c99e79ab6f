/** What every OCPP version adapter is given and offers. */
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { StationConfig } from '../config/types.js';
import type { StationApi } from '../station/api.js';
import type { Db } from '../store/db.js';
import type { OcppLink, OcppProtocol } from './link.js';

export interface AdapterDeps {
  link: OcppLink;
  station: StationApi;
  db: Db;
  clock: Clock;
  log: Logger;
  config: StationConfig;
}

export interface OcppAdapter {
  readonly protocol: OcppProtocol;
  /** Subscribe to the station and the link; boot when the link opens. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export type AdapterFactory = (deps: AdapterDeps) => OcppAdapter;
