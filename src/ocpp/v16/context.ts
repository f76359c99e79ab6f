/**
 * What the blocks of the 1.6 adapter share: the kit's BlockContext (typed link, station, clock, this
 * block's logger, CSMS time, registration gate, deferred work, subscriptions) with the live 1.6
 * configuration, and the parts the blocks call each other through.
 */
import type { IdToken } from '../../station/api.js';
import type { Block, BlockContext, BootStatus } from '../kit/index.js';
import type { V16Messages } from '../messages/v16.js';
import type { CaliforniaPricing } from './california-pricing.js';
import type { V16Configuration } from './configuration.js';
import type { V16DataTransfer } from './data-transfer.js';
import type { V16Diagnostics } from './diagnostics.js';
import type { V16Firmware } from './firmware.js';
import type { InvalidIdEnergy } from './invalid-id.js';
import type { LocalListConflicts } from './local-list-conflict.js';
import type { Registration } from './boot.js';
import type { V16Security } from './security.js';
import type { StatusReporter } from './status.js';
import type { Transactions } from './transactions.js';

/** States before the first BootNotification answer of a connection. */
export type BeforeBoot = 'offline' | 'booting';
export type RegistrationState = BeforeBoot | BootStatus;

/** A block's context in the 1.6 adapter. */
export interface V16Context extends BlockContext<V16Messages, BeforeBoot> {
  cfg: V16Configuration;
  /** Registration with the CSMS (spec 4.2): the gate's state. */
  readonly registration: RegistrationState;
  /** Station time (default now) as the CSMS's time, ISO 8601: we keep an offset, never set the system clock. */
  iso(stationMs?: number): string;
  /** A CSMS time as station time. */
  fromIso(iso: string): number;
}

/** The parts blocks reach each other through (each built once by index.ts). */
export interface V16Parts {
  registration: Registration;
  status: StatusReporter;
  tx: Transactions;
  conflicts: LocalListConflicts;
  invalidId: InvalidIdEnergy;
  firmware: V16Firmware;
  diagnostics: V16Diagnostics;
  security: V16Security;
  california: CaliforniaPricing;
  dataTransfer: V16DataTransfer;
}

export interface V16BlockContext extends V16Context {
  readonly parts: V16Parts;
}

export type V16Block = Block<V16BlockContext>;

/** The 1.6 view of a kit context; getters, so the registration state and the parts are read live. */
export function v16Context(base: BlockContext<V16Messages, BeforeBoot>, cfg: V16Configuration, parts: () => V16Parts): V16BlockContext {
  return {
    ...base,
    cfg,
    get registration() {
      return base.gate.state;
    },
    iso: (ms) => base.csmsTime.iso(ms),
    fromIso: (iso) => base.csmsTime.fromIso(iso),
    get parts() {
      return parts();
    },
  };
}

/** 1.6 connectorId of an EVSE: this station has one connector per EVSE, numbered like the EVSEs. */
export const connectorOf = (evseId: number): number => evseId;

/** Is connectorId a connector of this station (not 0)? */
export const knownConnector = (ctx: Pick<V16Context, 'station'>, connectorId: number): boolean =>
  ctx.station.evseIds.some((e) => connectorOf(e) === connectorId);

/** The EVSE of a connector (0: the charge point). */
export const evseOfConnector = (ctx: Pick<V16Context, 'station'>, connectorId: number): number =>
  ctx.station.evseIds.find((e) => connectorOf(e) === connectorId) ?? connectorId;

/** Tokens from the CSMS carry no type in 1.6; RFID UIDs are by far the common case. */
export const tokenOf = (idTag: string): IdToken => ({ idToken: idTag, type: 'ISO14443' });
