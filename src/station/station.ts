/**
 * The version-neutral station: owns the EVSEs, their sessions, authorization, metering,
 * reservations, availability and reset. The OCPP adapters subscribe to its events before start().
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock } from '../../base/clock.js';
import type { Hal } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { loadSession, openSessions, pruneSessions, unreportedEnds } from '../store/sessions.js';
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
import { Authorizer } from './authorization.js';
import { Evse } from './evse.js';
import { SessionFacts } from './evse-status.js';
import { Metering } from './metering.js';
import { Reservations } from './reservations.js';
import { Sessions } from './session.js';
import type { SmartCharging } from './smart-charging.js';
import type { ExternalLimits, ExternalConstraint } from './external-limits.js';
import type { SiteLimit, SiteLimitSettings } from './site-limit.js';
import { Limits } from './limits.js';
import { Tokens } from './tokens.js';
import { EvseReactions } from './evse-reactions.js';
import { StorageGuard } from './storage-guard.js';
import { StationInputs } from './station-inputs.js';
import { AvailabilityAndReset, RESET_STOP } from './availability.js';
import { DisplayModel } from './display-model.js';

export interface StationDeps {
  hal: Hal;
  db: Db;
  clock: Clock;
  log: Logger;
  auth?: Partial<AuthSettings>;
  /** The local site limit (config site.*); absent: none. The other-load meter is hal.siteMeter. */
  site?: SiteLimitSettings;
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

export { STORAGE_PROBE_MS } from './storage-guard.js';

/** Ended, reported sessions are kept this long (findSession of recent ones), then pruned at start. */
const SESSION_KEEP_MS = 90 * 86_400_000;

export class Station extends TypedEmitter<StationEvents> implements StationApi {
  readonly auth: AuthSettings;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly evses = new Map<number, Evse>();
  /** Per EVSE, the session facts: written by Sessions, read by the EVSE's pilot/contactor layer. */
  private readonly facts = new Map<number, SessionFacts>();
  /** The card reader and the emergency stop input. */
  private readonly inputs: StationInputs;
  /** Charging stops while the database takes no writes, and resumes when it does. */
  private readonly storage: StorageGuard;
  private readonly metering: Metering;
  private readonly authorizer: Authorizer;
  private readonly sess: Sessions;
  private readonly reservations: Reservations;
  /** Wanted availability and resets. */
  private readonly avail: AvailabilityAndReset;
  /** What the station does with the EVSEs' snapshots. */
  private readonly reactions: EvseReactions;
  /** Presented tokens and remote starts. */
  private readonly tokens: Tokens;
  /** The current limit of each EVSE (manual, profiles, external, site share). */
  private readonly limits: Limits;
  readonly chargingProfiles: SmartCharging;
  /** Limits from outside the CSMS (K11–K14) and the site's headroom; a cap the profiles cannot lift. */
  readonly externalLimits: ExternalLimits;
  /** Shares the site's headroom (and external limits on all EVSEs) across the EVSEs. */
  readonly siteLimit: SiteLimit;
  /** What the display shows; the adapters feed it the CSMS's messages, tariffs and costs. */
  readonly display?: DisplayModel;
  private started = false;
  private stopping = false;
  private recordedReset: ResetKind | undefined;
  constructor(deps: StationDeps) {
    const log = deps.log.child('station');
    super(log);
    this.db = deps.db;
    this.clock = deps.clock;
    this.log = log;
    this.auth = { ...defaultAuthSettings, ...deps.auth };
    // The EVSEs watch their hardware from now on: the safety rule holds even before start().
    for (const h of deps.hal.evses) {
      const facts = new SessionFacts();
      const evse = new Evse({
        hal: h,
        clock: this.clock,
        log: log.child(`evse${h.id}`),
        session: facts,
        keepLockedOnEvUnplug: () => !this.auth.unlockConnectorOnEVSideDisconnect,
      });
      this.evses.set(h.id, evse);
      this.facts.set(h.id, facts);
    }
    const evseList = [...this.evses.values()];
    if (deps.hal.display) this.display = new DisplayModel({ events: this, clock: this.clock, log: log.child('display'), evseIds: [...this.evses.keys()], display: deps.hal.display });
    this.metering = new Metering({
      clock: this.clock,
      log: log.child('metering'),
      evses: evseList,
      sessionOf: (id) => this.sess.get(id)?.id,
    });
    this.metering.on('sample', (s) => {
      this.sess.noteSample(s);
      this.tell('meter', s);
    });
    this.authorizer = new Authorizer(this.db, this.clock, log.child('auth'), this.auth);
    this.sess = new Sessions({
      db: this.db,
      clock: this.clock,
      log: log.child('sessions'),
      settings: this.auth,
      evses: this.evses,
      facts: this.facts,
      metering: this.metering,
      afterEnd: (s) => this.afterSessionEnd(s),
    });
    this.sess.on('event', (e) => {
      this.tell('session', e);
      this.limits.sessionFact(e);
    });
    this.reservations = new Reservations({
      db: this.db,
      clock: this.clock,
      log: log.child('reservations'),
      evses: this.evses,
      busy: (id) => this.sess.get(id) !== undefined,
      ended: (id, why, evseId) => {
        this.tell('reservation-ended', id, why);
        const evse = this.evses.get(evseId);
        if (evse && why !== 'Used') this.openForCable(evse);
      },
    });
    this.limits = new Limits({
      db: this.db,
      clock: this.clock,
      log,
      hal: deps.hal,
      ...(deps.site ? { site: deps.site } : {}),
      evses: this.evses,
      session: (id) => this.sess.get(id),
      readMeter: (id) => this.metering.read(id),
      tellLimit: (id, amps) => this.tell('limit', id, amps),
      tellExternal: (c) => this.tell('external-limit', c),
    });
    this.chargingProfiles = this.limits.chargingProfiles;
    this.externalLimits = this.limits.externalLimits;
    this.siteLimit = this.limits.siteLimit;
    this.avail = new AvailabilityAndReset({
      db: this.db,
      log,
      evses: this.evses,
      sess: this.sess,
      openForCable: (evse) => this.openForCable(evse),
      restart: (kind) => this.tell('restart-requested', kind),
    });
    this.storage = new StorageGuard({ db: this.db, clock: this.clock, log, evses: this.evses, sess: this.sess, running: () => this.started && !this.stopping });
    this.tokens = new Tokens({
      db: this.db,
      log,
      auth: this.auth,
      evses: this.evses,
      sess: this.sess,
      reservations: this.reservations,
      authorizer: this.authorizer,
      chargingProfiles: this.chargingProfiles,
      running: () => this.started && !this.stopping,
    });
    this.reactions = new EvseReactions({
      sess: this.sess,
      reservations: this.reservations,
      tell: (event, ...args) => this.tell(event, ...args),
      started: () => this.started,
      running: () => this.started && !this.stopping,
    });
    for (const evse of evseList) this.reactions.wire(evse);
    this.inputs = new StationInputs({
      hal: deps.hal,
      log,
      evses: this.evses,
      display: this.display,
      presentToken: (t) => this.presentToken(t),
      tell: (event, ...args) => this.tell(event, ...args),
    });
  }

  /** A failing listener (an adapter bug) is logged by the emitter and never breaks the station's own sequence. */
  private tell<K extends keyof StationEvents & string>(event: K, ...args: StationEvents[K]): void {
    this.emit(event, ...args);
  }

  get evseIds(): number[] {
    return [...this.evses.keys()];
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async start(): Promise<void> {
    pruneSessions(this.db, this.clock.now() - SESSION_KEEP_MS);
    this.recordedReset = this.avail.load();
    for (const evse of this.evses.values()) await this.metering.read(evse.id);
    await this.recover();
    this.reservations.load();
    // Before the EVSEs announce themselves: a zero limit already shows in the first status.
    this.chargingProfiles.start();
    this.siteLimit.start();
    this.inputs.applyEmergencyStop();
    this.started = true;
    this.display?.start();
    for (const evse of this.evses.values()) {
      evse.announce();
      this.reactions.report(evse);
      this.openForCable(evse);
    }
    this.inputs.start();
    // After the faults raised before anyone listened: a write that failed while the station came up counts now.
    this.storage.start();
    this.log.info('station started', { evses: this.evseIds, lastReset: this.recordedReset });
  }

  /** End the sessions a power cut (or a reset) left open, and report ends that never were. */
  private async recover(): Promise<void> {
    for (const s of unreportedEnds<Session>(this.db)) this.sess.report(s, s.stoppedReason === 'PowerLoss' ? 'AbnormalCondition' : 'ResetCommand');
    const reason: StopReason = this.recordedReset ? RESET_STOP[this.recordedReset] : 'PowerLoss';
    for (const s of openSessions<Session>(this.db)) {
      this.log.warn('session left open by a restart ended', { session: s.id, evse: s.evseId, reason, lastActiveAt: s.lastActiveAt });
      this.sess.endRecovered(s, reason, this.recordedReset ? 'ResetCommand' : 'AbnormalCondition', this.metering.lastReading(s.evseId)?.energyImportWh);
    }
  }

  /** End running sessions with the reason, open every contactor, stop every timer. */
  async stop(reason: StopReason = 'Other'): Promise<void> {
    this.stopping = true;
    for (const evse of this.evses.values()) evse.shutdown();
    const trigger: SessionTrigger = ['HardReset', 'SoftReset', 'ImmediateReset', 'Reboot'].includes(reason) ? 'ResetCommand' : 'AbnormalCondition';
    for (const s of this.sess.all()) void this.sess.end(s.evseId, reason, trigger);
    await this.sess.settled();
    this.storage.lastTry();
    this.metering.stop();
    this.chargingProfiles.stop();
    this.siteLimit.stop();
    this.sess.stopTimers();
    this.reservations.stopTimers();
    this.inputs.stop();
    this.storage.stop();
    this.display?.stop();
    this.started = false;
  }

  lastReset(): ResetKind | undefined {
    return this.recordedReset;
  }

  // ---- reads ----------------------------------------------------------------------------------

  connector(evseId: number): ConnectorState {
    return this.evse(evseId).connector();
  }

  session(evseId: number): Session | undefined {
    return this.sess.get(evseId);
  }

  sessions(): Session[] {
    return this.sess.all();
  }

  findSession(sessionId: string): Session | undefined {
    return this.sess.find(sessionId) ?? (this.started ? loadSession<Session>(this.db, sessionId) : undefined);
  }

  private evse(evseId: number): Evse {
    const e = this.evses.get(evseId);
    if (!e) throw new Error(`unknown EVSE ${evseId}`);
    return e;
  }

  // ---- authorization --------------------------------------------------------------------------

  setCsms(gateway: CsmsGateway): void {
    this.authorizer.csms = gateway;
  }

  /**
   * A token was presented (reader or adapter). Same token (or group, or master pass) on a running
   * session stops it; otherwise, when valid, it authorizes a session on the chosen EVSE.
   */
  presentToken(token: IdToken, evseId?: number): Promise<AuthInfo> {
    return this.tokens.present(token, evseId);
  }

  evseFor(token: IdToken, groupId?: string): number | undefined {
    return this.tokens.evseFor(token, groupId);
  }

  requestStart(evseId: number, token: IdToken, opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'> {
    return this.tokens.requestStart(evseId, token, opts);
  }

  requestStop(sessionId: string, reason: StopReason, trigger: SessionTrigger): boolean {
    const s = this.sess.find(sessionId);
    if (!s) return false;
    void this.sess.end(s.evseId, reason, trigger);
    return true;
  }

  deauthorize(sessionId: string, auth: AuthInfo): void {
    const s = this.sess.find(sessionId);
    if (!s) return;
    if (s.idToken) this.authorizer.remember(s.idToken, auth);
    this.sess.deauthorize(sessionId, auth);
  }

  rememberAuth(token: IdToken, auth: AuthInfo): void {
    this.authorizer.remember(token, auth);
  }

  clearAuthCache(): void {
    this.authorizer.clearCache();
  }

  localListVersion(): number {
    return this.authorizer.listVersion();
  }

  updateLocalList(version: number, full: boolean, entries: LocalListEntry[]): 'Accepted' | 'Failed' | 'VersionMismatch' {
    return this.authorizer.updateList(version, full, entries);
  }

  // ---- commands -------------------------------------------------------------------------------

  async unlock(evseId: number): Promise<UnlockResult> {
    const evse = this.evses.get(evseId);
    if (!evse) return 'UnknownConnector';
    if (!evse.hal.lock) return 'NotSupported';
    if (this.sess.get(evseId)?.authorizedAt !== undefined) return 'OngoingAuthorizedTransaction';
    this.sess.releaseLock(evse);
    return (await evse.unlockNow()) ? 'Unlocked' : 'UnlockFailed';
  }

  setAvailability(evseId: number, operative: boolean): AvailabilityResult {
    return this.avail.set(evseId, operative);
  }

  private openForCable(evse: Evse): void {
    this.reactions.openForCable(evse);
  }


  reset(kind: ResetKind, evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled' {
    return this.avail.reset(kind, evseId);
  }

  private afterSessionEnd(s: Session): void {
    this.avail.sessionEnded(this.evses.get(s.evseId), this.stopping);
  }

  reserve(r: Reservation): ReservationResult {
    return this.reservations.reserve(r);
  }

  cancelReservation(id: number): boolean {
    return this.reservations.cancel(id);
  }

  /** Smart-charging limit in amperes per phase; undefined = no limit (hardware maximum). */
  setLimit(evseId: number, amps: number | undefined): void {
    this.limits.setLimit(evseId, amps);
  }

  /** See Limits.localCapA. */
  localCapA(evseId: number): number | undefined {
    return this.limits.localCapA(evseId);
  }

  externalConstraints(): ExternalConstraint[] {
    return this.externalLimits.list();
  }

  // ---- metering -------------------------------------------------------------------------------

  async sampleNow(evseId: number, context: SampleContext): Promise<MeterSample | undefined> {
    if (!this.evses.has(evseId)) return undefined;
    return this.metering.sample(evseId, context);
  }

  setSampleInterval(seconds: number): void {
    this.metering.setSampleInterval(seconds);
  }

  setAlignedInterval(seconds: number): void {
    this.metering.setAlignedInterval(seconds);
  }
}

