/**
 * The version-neutral station as the OCPP adapters see it. Nothing here knows OCPP 1.6 or 2.0.1:
 * the adapters translate these events and commands into their version's messages.
 * Words follow 2.0.1 where the versions differ (it is the richer vocabulary); the 1.6 adapter maps.
 */
import type { DisplayModel } from './display-model.js';
import type { HalFault, HalFaultKind, MeterReading } from '../../hal/types.js';
import type { TypedEmitter } from '../../base/emitter.js';
import type { ExternalConstraint, ExternalLimitChange } from './external-limits.js';

export type { ExternalConstraint, ExternalLimitChange, ExternalLimitSource } from './external-limits.js';

/** Status of a connector, 1.6 granularity; 2.0.1 maps Preparing..Finishing to Occupied. */
export type ConnectorStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEV'
  | 'SuspendedEVSE'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted';

/**
 * A fault of a part of the station, version-neutral: what went wrong (kind), how bad it is (high opens
 * the contactor and makes the EVSE inoperative; low stops charging cleanly), and free text. Each adapter
 * maps the kind to its version's words (1.6 ChargePointErrorCode: src/ocpp/v16/error-codes.ts).
 * The adapters read faults and meter readings through these names, never from hal/.
 */
export type Fault = HalFault;
export type FaultKind = HalFaultKind;
export type { FaultSeverity, MeterReading, Phase } from '../../hal/types.js';

export interface ConnectorState {
  evseId: number;
  connectorId: number;
  status: ConnectorStatus;
  /**
   * The fault the status shows: the high-severity one when Faulted (a pilot in state E/F shows as a
   * 'pilot-error'), else a low-severity one that leaves the connector usable; absent when none.
   */
  fault?: Fault;
  /** Short text for the operator: the fault's kind and detail, or the pilot state. */
  info?: string;
  /** Epoch ms of the change. */
  at: number;
}

export type IdTokenType =
  | 'Central'
  | 'eMAID'
  | 'ISO14443'
  | 'ISO15693'
  | 'KeyCode'
  | 'Local'
  | 'MacAddress'
  | 'NoAuthorization';

export interface IdToken {
  idToken: string;
  type: IdTokenType;
}

export type AuthStatus =
  | 'Accepted'
  | 'Blocked'
  | 'ConcurrentTx'
  | 'Expired'
  | 'Invalid'
  | 'NoCredit'
  | 'NotAllowedTypeEVSE'
  | 'NotAtThisLocation'
  | 'NotAtThisTime'
  | 'Unknown';

export interface AuthInfo {
  status: AuthStatus;
  /** 1.6 parentIdTag / 2.0.1 groupIdToken.idToken */
  groupId?: string;
  /** Epoch ms */
  expiresAt?: number;
  /** Text from the CSMS for the driver (2.0.1 idTokenInfo.personalMessage, 1.6 California Pricing tariff); shown by the display. */
  personalMessage?: string;
  /** The driver's preferred language (RFC 5646, 2.0.1 idTokenInfo.language1), for the display. */
  language?: string;
}

/** Why a session's transaction ended: 2.0.1 ReasonEnumType plus the 1.6-only reasons. */
export type StopReason =
  | 'DeAuthorized'
  | 'EmergencyStop'
  | 'EnergyLimitReached'
  | 'EVDisconnected'
  | 'GroundFault'
  | 'ImmediateReset'
  | 'Local'
  | 'LocalOutOfCredit'
  | 'MasterPass'
  | 'Other'
  | 'OvercurrentFault'
  | 'PowerLoss'
  | 'PowerQuality'
  | 'Reboot'
  | 'Remote'
  | 'SOCLimitReached'
  | 'StoppedByEV'
  | 'TimeLimitReached'
  | 'Timeout'
  | 'HardReset'
  | 'SoftReset'
  | 'UnlockCommand';

/** 2.0.1 ChargingStateEnumType, also used for 1.6 Charging / SuspendedEV / SuspendedEVSE. */
export type ChargingState = 'EVConnected' | 'Charging' | 'SuspendedEV' | 'SuspendedEVSE' | 'Idle';

/**
 * One charging session on one EVSE, from the first of (EV connected, authorized) to the last of
 * (EV disconnected, deauthorized / stopped). The adapters decide where their OCPP transaction starts
 * and stops inside it (1.6: authorized ∧ connected; 2.0.1: TxStartPoint / TxStopPoint).
 */
export interface Session {
  /** Station-local unique id (UUID); the 2.0.1 adapter uses it as transactionId. */
  id: string;
  evseId: number;
  connectorId: number;
  startedAt: number;
  evConnectedAt?: number;
  authorizedAt?: number;
  idToken?: IdToken;
  auth?: AuthInfo;
  /** Set when the session was started by a remote start (1.6 none, 2.0.1 remoteStartId). */
  remoteStartId?: number;
  reservationId?: number;
  /** True while the contactor is closed for this session. */
  powerPathClosed: boolean;
  chargingState: ChargingState;
  meterStartWh?: number;
  /** Set once the session ends. */
  endedAt?: number;
  stoppedReason?: StopReason;
  meterStopWh?: number;
  /** Token that stopped it locally, when not the starting one (e.g. master pass). */
  stopIdToken?: IdToken;
  /** True when authorization happened while offline. */
  offline?: boolean;
  /**
   * Last time (epoch ms) the running station checkpointed this session, and the energy register of its
   * last meter sample: a session cut by a power loss ends at that time, with at least that energy.
   */
  lastActiveAt?: number;
  lastEnergyWh?: number;
}

/** What moved a session, close to 2.0.1 TriggerReasonEnumType so that adapter mapping is direct. */
export type SessionTrigger =
  | 'CablePluggedIn'
  | 'EVDetected'
  | 'Authorized'
  | 'RemoteStart'
  | 'ChargingStateChanged'
  | 'EVCommunicationLost'
  | 'EVConnectTimeout'
  | 'EVDeparted'
  | 'Deauthorized'
  | 'StopAuthorized'
  | 'RemoteStop'
  | 'AbnormalCondition'
  | 'EnergyLimitReached'
  | 'ResetCommand'
  | 'UnlockCommand'
  | 'ChargingRateChanged'
  | 'MeterValuePeriodic'
  | 'MeterValueClock'
  | 'SignedDataReceived'
  | 'TimeLimitReached'
  | 'Trigger';

/**
 * A session's three milestones and the facts between them. 'started' (its trigger says which fact
 * opened it: CablePluggedIn, Authorized or RemoteStart; that fact is not repeated as 'ev-connected' /
 * 'authorized'), then the other facts as they happen, then 'ended' exactly once: the energy stopped
 * and the authorization is over (stop token, remote stop, EV side disconnect with
 * StopTxOnEVSideDisconnect, timeout, reset, high fault, shutdown). Then 'closed' exactly once, when
 * nothing of the session is left on the EVSE: the cable left (trigger EVDeparted, at once after
 * 'ended' when it was out already) or another session took the EVSE (that session's opening trigger,
 * just before its 'started'); its snapshot has chargingState Idle. Where a protocol transaction starts
 * and stops between these (1.6 Finishing, 2.0.1 TxStartPoint / TxStopPoint) is each adapter's projection.
 * A session left open by a power cut is ended at the next start() with reason PowerLoss (or the
 * recorded reset) and reported then; its 'closed' follows as for any other.
 */
export type SessionEventType =
  | 'started' // milestone: session opened (first of connected / authorized)
  | 'ev-connected'
  | 'authorized'
  | 'power-path-closed'
  | 'power-path-opened'
  | 'charging-state'
  | 'ev-disconnected'
  | 'deauthorized'
  | 'ended' // milestone: energy stopped, authorization over; the cable may still be in
  | 'closed'; // milestone: the cable left, or another session took the EVSE

export interface SessionEvent {
  type: SessionEventType;
  trigger: SessionTrigger;
  at: number;
  /** A snapshot of the session after the event. */
  session: Session;
}

export type SampleContext = 'Sample.Periodic' | 'Sample.Clock' | 'Transaction.Begin' | 'Transaction.End' | 'Trigger';

export interface MeterSample {
  evseId: number;
  /** Session running on the EVSE when sampled, if any. */
  sessionId?: string;
  context: SampleContext;
  reading: MeterReading;
  /** Current offered to the EV (pilot PWM), amperes. */
  currentOfferedA: number;
}

export interface StationEvents {
  /** A connector's status or error code changed. */
  status: [ConnectorState];
  session: [SessionEvent];
  meter: [MeterSample];
  'fault-raised': [evseId: number, fault: Fault];
  'fault-cleared': [evseId: number, kind: FaultKind];
  /** Station asks its owner to restart the process (hard reset). */
  'restart-requested': [reason: 'HardReset' | 'SoftReset' | 'Immediate'];
  /** A reservation ended other than by cancelReservation (2.0.1 ReservationStatusUpdate): expired, or used by its token. */
  'reservation-ended': [reservationId: number, reason: 'Expired' | 'Removed' | 'Used'];
  /**
   * The effective current limit of an EVSE changed: setLimit() and the charging profiles together, capped
   * by the EVSE's hardware maximum (amperes per phase; the maximum itself when nothing limits it).
   */
  limit: [evseId: number, amps: number];
  /**
   * A limit from outside the CSMS (an external control system, or the site limit's headroom) was set,
   * changed or released (2.0.1 K11–K13: NotifyChargingLimit / ClearedChargingLimit). Every change is told;
   * thinning by LimitChangeSignificance is the adapter's.
   */
  'external-limit': [ExternalLimitChange];
}

/**
 * What the station needs from the CSMS; the active OCPP adapter implements it. The station never
 * imports src/ocpp: it is handed one of these.
 */
export interface CsmsGateway {
  /** True while the link to the CSMS is up and the boot is accepted. */
  readonly online: boolean;
  /**
   * Ask the CSMS. Rejects with CsmsUnreachableError when there is no answer to be had (not connected,
   * call timed out): only then does the station apply its offline rules. Any other rejection means the
   * CSMS answered (a CALLERROR, an answer that does not parse) and the token is not authorized.
   */
  authorize(token: IdToken, evseId?: number): Promise<AuthInfo>;
}

/** The CSMS could not be asked (no connection, no answer in time): the offline rules apply. */
export class CsmsUnreachableError extends Error {
  override name = 'CsmsUnreachableError';
}

/** Authorization behaviour; the adapters keep it in step with their config keys / device model. */
export interface AuthSettings {
  authorizationCacheEnabled: boolean;
  localAuthListEnabled: boolean;
  localPreAuthorize: boolean;
  localAuthorizeOffline: boolean;
  allowOfflineTxForUnknownId: boolean;
  authorizeRemoteTxRequests: boolean;
  stopTransactionOnInvalidId: boolean;
  stopTxOnEVSideDisconnect: boolean;
  unlockConnectorOnEVSideDisconnect: boolean;
  /** Seconds an authorization waits for the cable (and the cable for an authorization). */
  connectionTimeOutS: number;
  /** Tokens of this group end any session (2.0.1 C16). */
  masterPassGroupId?: string;
  /** Seconds an authorization cache entry lives when the CSMS gives no expiry. */
  authCacheLifeTimeS?: number;
}

export type AvailabilityResult = 'Accepted' | 'Rejected' | 'Scheduled';
export type UnlockResult = 'Unlocked' | 'UnlockFailed' | 'NotSupported' | 'OngoingAuthorizedTransaction' | 'UnknownConnector';
export type ReservationResult = 'Accepted' | 'Faulted' | 'Occupied' | 'Rejected' | 'Unavailable';
export type ResetKind = 'Soft' | 'Hard' | 'Immediate' | 'OnIdle';

export interface Reservation {
  id: number;
  /** 0 = any EVSE */
  evseId: number;
  idToken: IdToken;
  groupId?: string;
  expiresAt: number;
}

export interface RequestStartOptions {
  remoteStartId?: number;
  /** Skip the CSMS authorize step (AuthorizeRemoteTxRequests false). */
  preAuthorized: boolean;
  /**
   * Without preAuthorized the answer is Accepted before the token is authorized (the Authorize.req
   * goes after the CSMS has its answer); called when that authorization then refuses the token.
   */
  refused?: () => void;
  groupId?: string;
  /** A TxProfile for the session this start opens (1.6 RemoteStartTransaction.chargingProfile, 2.0.1 K05). */
  chargingProfile?: ChargingProfile;
}

export interface LocalListEntry {
  idToken: IdToken;
  /** Absent in a differential update means: remove this entry. */
  auth?: AuthInfo;
}

export type {
  ChargingProfilePurpose,
  ChargingProfileKind,
  RecurrencyKind,
  ChargingRateUnit,
  ChargingSchedulePeriod,
  ChargingSchedule,
  ChargingProfile,
  ChargingProfileFilter,
  CompositeSchedule,
  ChargingProfileLimits,
  SetProfileResult,
  SetProfileRules,
  EvsePhaseInfo,
  ChargingProfilesApi,
} from './api-charging.js';
import type { ChargingProfile, ChargingProfilesApi } from './api-charging.js';

/** The commands the adapters call, and the events they listen to. */
export interface StationApi extends TypedEmitter<StationEvents> {
  readonly evseIds: number[];
  connector(evseId: number): ConnectorState;
  /** Running (not ended) session on an EVSE. */
  session(evseId: number): Session | undefined;
  sessions(): Session[];
  findSession(sessionId: string): Session | undefined;
  /** Live authorization settings: adapters mutate them when their config changes. */
  readonly auth: AuthSettings;
  setCsms(gateway: CsmsGateway): void;
  /** Smart charging; absent on a station without it (the adapters then answer NotSupported). */
  readonly chargingProfiles?: ChargingProfilesApi;
  /** What the display shows (src/station/display-model.ts); the adapters feed it messages, tariffs and costs. */
  readonly display?: DisplayModel;

  presentToken(token: IdToken, evseId?: number): Promise<AuthInfo>;
  /**
   * The EVSE a token goes to when no EVSE is named: the one its reservation holds, the one whose cable
   * waits for a token, the only one, the first free one; undefined when none can take it. The one choice
   * for both a presented token and a remote start without an EVSE (1.6 connectorId / 2.0.1 evseId absent).
   */
  evseFor(token: IdToken, groupId?: string): number | undefined;
  requestStart(evseId: number, token: IdToken, opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'>;
  requestStop(sessionId: string, reason: StopReason, trigger: SessionTrigger): boolean;
  /** The CSMS says the token of a running session is not valid (StartTransaction.conf / TransactionEvent response). */
  deauthorize(sessionId: string, auth: AuthInfo): void;
  unlock(evseId: number): Promise<UnlockResult>;
  /** evseId 0 = the whole station. */
  setAvailability(evseId: number, operative: boolean): AvailabilityResult;
  reset(kind: ResetKind, evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled';
  reserve(r: Reservation): ReservationResult;
  cancelReservation(id: number): boolean;
  /** The limits from outside the CSMS in force now (reported as ChargingStationExternalConstraints). */
  externalConstraints?(): ExternalConstraint[];
  /** Smart-charging limit in amperes per phase; undefined = no limit (hardware maximum). */
  setLimit(evseId: number, amps: number | undefined): void;
  /** Read the meter now (TriggerMessage MeterValues). */
  sampleNow(evseId: number, context: SampleContext): Promise<MeterSample | undefined>;
  /** Periodic sampling during sessions; 0 = off. */
  setSampleInterval(seconds: number): void;
  /** Clock-aligned sampling; 0 = off. */
  setAlignedInterval(seconds: number): void;

  clearAuthCache(): void;
  /** The reset recorded before this start, if the station restarted because of one (2.0.1 BootReason RemoteReset). */
  lastReset?(): ResetKind | undefined;
  /** Keep a CSMS answer about a token (1.6 idTagInfo of Start/StopTransaction.conf) in the authorization cache. */
  rememberAuth?(token: IdToken, auth: AuthInfo): void;
  localListVersion(): number;
  /** full: replace the list; else differential. Returns false on a version or size problem. */
  updateLocalList(version: number, full: boolean, entries: LocalListEntry[]): 'Accepted' | 'Failed' | 'VersionMismatch';
}
