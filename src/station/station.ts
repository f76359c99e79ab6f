/**
 * The version-neutral station: owns the EVSEs, their sessions, authorization, metering,
 * reservations, availability and reset. The OCPP adapters subscribe to its events before start().
 */
import { TypedEmitter } from '../../hal/emitter.js';
import type { Clock } from '../../hal/clock.js';
import type { Hal, Logger } from '../../hal/types.js';
import type { Db } from '../store/db.js';
import type {
  AuthInfo,
  AuthSettings,
  AvailabilityResult,
  ConnectorState,
  CsmsGateway,
  IdToken,
  LocalListEntry,
  MeterSample,
  RequestStartOptions,
  Reservation,
  ReservationResult,
  ResetKind,
  SampleContext,
  Session,
  SessionTrigger,
  StationApi,
  StationEvents,
  StopReason,
  UnlockResult,
} from './api.js';

export interface StationDeps {
  hal: Hal;
  db: Db;
  clock: Clock;
  log: Logger;
  auth?: Partial<AuthSettings>;
}

export const defaultAuthSettings: AuthSettings = {
  authorizationCacheEnabled: true,
  localAuthListEnabled: true,
  localPreAuthorize: false,
  localAuthorizeOffline: true,
  allowOfflineTxForUnknownId: false,
  authorizeRemoteTxRequests: false,
  stopTransactionOnInvalidId: true,
  stopTxOnEVSideDisconnect: true,
  unlockConnectorOnEVSideDisconnect: true,
  connectionTimeOutS: 120,
};

export class Station extends TypedEmitter<StationEvents> implements StationApi {
  readonly auth: AuthSettings;
  private readonly deps: StationDeps;

  constructor(deps: StationDeps) {
    super();
    this.deps = deps;
    this.auth = { ...defaultAuthSettings, ...deps.auth };
  }

  get evseIds(): number[] {
    return this.deps.hal.evses.map((e) => e.id);
  }

  async start(): Promise<void> {}
  async stop(_reason: StopReason = 'Other'): Promise<void> {}

  connector(evseId: number): ConnectorState {
    return { evseId, connectorId: 1, status: 'Available', errorCode: 'NoError', at: this.deps.clock.now() };
  }
  session(_evseId: number): Session | undefined {
    return undefined;
  }
  sessions(): Session[] {
    return [];
  }
  findSession(_sessionId: string): Session | undefined {
    return undefined;
  }
  setCsms(_gateway: CsmsGateway): void {}
  async presentToken(_token: IdToken, _evseId?: number): Promise<AuthInfo> {
    return { status: 'Invalid' };
  }
  async requestStart(_evseId: number, _token: IdToken, _opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'> {
    return 'Rejected';
  }
  requestStop(_sessionId: string, _reason: StopReason, _trigger: SessionTrigger): boolean {
    return false;
  }
  deauthorize(_sessionId: string, _auth: AuthInfo): void {}
  async unlock(_evseId: number): Promise<UnlockResult> {
    return 'NotSupported';
  }
  setAvailability(_evseId: number, _operative: boolean): AvailabilityResult {
    return 'Rejected';
  }
  reset(_kind: ResetKind, _evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled' {
    return 'Rejected';
  }
  reserve(_r: Reservation): ReservationResult {
    return 'Rejected';
  }
  cancelReservation(_id: number): boolean {
    return false;
  }
  setLimit(_evseId: number, _amps: number | undefined): void {}
  async sampleNow(_evseId: number, _context: SampleContext): Promise<MeterSample | undefined> {
    return undefined;
  }
  setSampleInterval(_seconds: number): void {}
  setAlignedInterval(_seconds: number): void {}
  clearAuthCache(): void {}
  localListVersion(): number {
    return 0;
  }
  updateLocalList(_version: number, _full: boolean, _entries: LocalListEntry[]): 'Accepted' | 'Failed' | 'VersionMismatch' {
    return 'Failed';
  }
}
