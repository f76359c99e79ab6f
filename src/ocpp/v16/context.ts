/** What the parts of the 1.6 adapter share. */
import type { AdapterDeps } from '../adapter.js';
import type { V16Configuration } from './configuration.js';

export type RegistrationState = 'offline' | 'booting' | 'Pending' | 'Rejected' | 'Accepted';

/** The adapter's dependencies, and what its parts add to them. */
export interface V16Context extends AdapterDeps {
  cfg: V16Configuration;
  /** Registration with the CSMS (spec 4.2). */
  readonly registration: RegistrationState;
  /** Station time (clock.now()) as the CSMS's time, ISO 8601: we keep an offset, never set the system clock. */
  iso(stationMs: number): string;
  /** A CSMS time as station time. */
  fromIso(iso: string): number;
}

/** 1.6 connectorId of an EVSE: this station has one connector per EVSE, numbered like the EVSEs. */
export const connectorOf = (evseId: number): number => evseId;
