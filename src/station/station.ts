/**
 * The version-neutral station: owns the EVSEs, their sessions, authorization, metering,
 * reservations, availability and reset. The OCPP adapters subscribe to its events before start().
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Hal, HalFault, TokenRead } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import { probeWrite, type Db } from '../store/db.js';
import { storageHealth, type StorageFault } from '../store/health.js';
import { kvDelete, kvGet, kvSet } from '../store/kv.js';
import { loadSession, openSessions, pruneSessions, unreportedEnds } from '../store/sessions.js';
import type {
  AuthInfo,
  AuthSettings,
  AvailabilityResult,
  ChargingProfile,
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
import { Evse, type EvseSnapshot } from './evse.js';
import { SessionFacts } from './evse-status.js';
import { stopReasonFor } from './faults.js';
import { Metering } from './metering.js';
import { Reservations } from './reservations.js';
import { Sessions } from './session.js';
import { SmartCharging } from './smart-charging.js';
import { CappedSmartCharging } from './composite-cap.js';
import { ExternalLimits, type ExternalConstraint } from './external-limits.js';
import { SiteLimit, worstPhaseA, type SiteLimitSettings } from './site-limit.js';
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

/** Wanted availability, persisted; applied to an EVSE once no session runs on it. */
interface Availability {
  station: boolean;
  evses: Record<string, boolean>;
}

/** While the storage takes no writes, a probe write is tried this often (station clock). */
export const STORAGE_PROBE_MS = 10_000;

const KV_AVAILABILITY = 'availability';
const KV_PENDING_RESET = 'pending-reset';
/** Ended, reported sessions are kept this long (findSession of recent ones), then pruned at start. */
const SESSION_KEEP_MS = 90 * 86_400_000;

const RESET_STOP: Record<ResetKind, StopReason> = {
  Soft: 'SoftReset',
  Hard: 'HardReset',
  Immediate: 'ImmediateReset',
  OnIdle: 'SoftReset',
};
const RESET_RESTART: Record<ResetKind, 'HardReset' | 'SoftReset' | 'Immediate'> = {
  Soft: 'SoftReset',
  Hard: 'HardReset',
  Immediate: 'Immediate',
  OnIdle: 'SoftReset',
};

export class Station extends TypedEmitter<StationEvents> implements StationApi {
  readonly auth: AuthSettings;
  private readonly hal: Hal;
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly evses = new Map<number, Evse>();
  /** Per EVSE, the session facts: written by Sessions, read by the EVSE's pilot/contactor layer. */
  private readonly facts = new Map<number, SessionFacts>();
  /** Faults the EVSEs took from their parts at construction, before anyone listened to the EVSEs. */
  private readonly unheardFaults = new Map<number, HalFault[]>();
  private readonly metering: Metering;
  private readonly authorizer: Authorizer;
  private readonly sess: Sessions;
  private readonly reservations: Reservations;
  readonly chargingProfiles: SmartCharging;
  /** Limits from outside the CSMS (K11–K14) and the site's headroom; a cap the profiles cannot lift. */
  readonly externalLimits: ExternalLimits;
  /** Shares the site's headroom (and external limits on all EVSEs) across the EVSEs. */
  readonly siteLimit: SiteLimit;
  /** What the display shows; the adapters feed it the CSMS's messages, tariffs and costs. */
  readonly display?: DisplayModel;
  /** Limits set through setLimit(), combined with the smart-charging ones (the lower wins). */
  private readonly manualLimits = new Map<number, number>();
  private readonly profileLimits = new Map<number, number>();
  /** EVSEs whose phase switch is moving: no current is offered until it has. */
  private readonly switchingPhases = new Set<number>();
  /** Last effective limit told per EVSE ('limit' event); absent = its hardware maximum. */
  private readonly toldLimits = new Map<number, number>();
  private availability: Availability = { station: true, evses: {} };
  private started = false;
  private stopping = false;
  private resetOnIdle: ResetKind | undefined;
  private resetting = false;
  private recordedReset: ResetKind | undefined;
  private readonly onToken = (t: TokenRead): void => {
    this.presentToken({ idToken: t.id, type: t.kind })
      .then((info) => {
        if (info.status !== 'Accepted') this.display?.flash(['Card not accepted', info.personalMessage ?? info.status]);
      })
      .catch((err: unknown) => this.log.error('token handling failed', { err: String(err) }));
  };
  private readonly onReaderFault = (f: HalFault): void => {
    this.tell('fault-raised', 0, f);
  };
  private readonly onReaderFaultCleared = (k: HalFault['kind']): void => {
    this.tell('fault-cleared', 0, k);
  };
  private readonly onEmergencyStop = (active: boolean): void => this.applyEmergencyStop(active);
  private storageProbe: TimerHandle | undefined;
  private readonly onStorageFault = (f: StorageFault): void => this.storageFailed(f);
  private readonly onStorageRecovered = (): void => this.storageRecovered();

  constructor(deps: StationDeps) {
    const log = deps.log.child('station');
    super(log);
    this.hal = deps.hal;
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
      if (evse.activeFaults.length > 0) this.unheardFaults.set(h.id, evse.activeFaults);
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
        // Shared anew before the EVSE acts on the fact: an authorization finds its share in place
        // (the session is authorized before the EVSE is, see Sessions.authorize).
        if (e.type === 'started' || e.type === 'authorized' || e.type === 'ended' || e.type === 'deauthorized') this.siteLimit.rebalance();
        // After the adapters heard of it: a limit change it causes follows the session fact.
        if (e.type === 'ended') this.chargingProfiles.sessionEnded(e.session.id);
        else if (e.type === 'started' || e.type === 'authorized' || e.type === 'ev-connected') this.chargingProfiles.reapply();
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
    this.externalLimits = new ExternalLimits(this.clock, log.child('external-limits'), () => this.evseIds);
    this.siteLimit = new SiteLimit({
      clock: this.clock,
      log: log.child('site'),
      ...(deps.site ? { settings: deps.site } : {}),
      ...(deps.hal.siteMeter ? { meter: deps.hal.siteMeter } : {}),
      externals: this.externalLimits,
      station: {
        evseIds: [...this.evses.keys()],
        authorizedAt: (id) => this.sess.get(id)?.authorizedAt,
        wishA: (id) => this.wishA(id),
        offeredA: (id) => this.evses.get(id)?.offeredCurrent() ?? 0,
        readDrawA: async (id) => {
          const r = await this.metering.read(id);
          return r ? worstPhaseA(r) : undefined;
        },
        apply: (caps) => {
          // Reductions first: at no moment do the EVSEs together get more than the new shares allow.
          const step = (id: number): number => {
            const from = this.evses.get(id)?.limit;
            const to = caps.get(id);
            if (to === undefined) return from === undefined ? 0 : Infinity;
            return from === undefined ? -Infinity : to - from;
          };
          for (const id of [...caps.keys()].sort((a, b) => step(a) - step(b) || a - b)) this.applyLimit(id);
        },
      },
    });
    this.externalLimits.on('change', (c) => {
      this.tell('external-limit', c);
      this.siteLimit.rebalance();
      for (const id of this.evses.keys()) this.applyLimit(id);
    });
    this.chargingProfiles = new CappedSmartCharging({
      db: this.db,
      clock: this.clock,
      log: log.child('smart-charging'),
      evses: deps.hal.evses.map((h) => ({ id: h.id, phases: h.phases, maxCurrentA: h.maxCurrentA, phaseSwitch: h.phaseSwitch !== undefined })),
      nominalVoltageV: deps.hal.nominalVoltageV,
      sessionOf: (id) => {
        const s = this.sess.get(id);
        if (!s) return undefined;
        // The transaction starts once the session is both authorized and has its EV (1.6 4.8).
        const txStart = s.authorizedAt !== undefined && s.evConnectedAt !== undefined ? Math.max(s.authorizedAt, s.evConnectedAt) : undefined;
        return { id: s.id, ...(txStart !== undefined ? { txStart } : {}), ...(s.authorizedAt !== undefined ? { authorizedAt: s.authorizedAt } : {}) };
      },
      apply: (id, offered) => {
        if (offered === undefined) this.profileLimits.delete(id);
        else this.profileLimits.set(id, offered.amps);
        this.switchPhases(id, offered);
        this.applyLimit(id);
      },
    }, (id) => this.localCapA(id));
    for (const evse of evseList) this.wireEvse(evse);
  }

  private wireEvse(evse: Evse): void {
    evse.on('snapshot', (snap) => this.onSnapshot(evse, snap));
  }

  /**
   * One input of an EVSE, after its contactor was dealt with: first the plug fact goes to the sessions
   * (so that they record it before the status and charging state that follow from it), then what changed
   * is told, then the fault, which may end the session.
   */
  private onSnapshot(evse: Evse, snap: EvseSnapshot): void {
    const cause = snap.cause;
    if (cause.kind === 'pilot') {
      this.sess.pilotChanged(evse.id, snap.pilot === 'A' ? false : snap.pilot === 'E' || snap.pilot === 'F' ? undefined : true);
      if (cause.plugChanged && this.started && !this.stopping) {
        if (snap.plugged) this.onPlugged(evse);
        else this.sess.evDisconnected(evse);
      }
    }
    this.report(evse);
    if (cause.kind === 'fault-raised') {
      const f = cause.fault;
      this.tell('fault-raised', evse.id, f);
      if (f.severity === 'high' && this.sess.get(evse.id) && this.started) {
        void this.sess.end(evse.id, stopReasonFor(f.kind), 'AbnormalCondition');
      }
    } else if (cause.kind === 'fault-cleared') {
      this.tell('fault-cleared', evse.id, cause.fault);
      this.openForCable(evse);
    }
  }

  /** Tell what changed on the EVSE: its status to the adapters, its charging state and power path to its session. */
  private report(evse: Evse): void {
    const changes = evse.takeChanges();
    if (changes.status) this.tell('status', changes.status);
    if (changes.chargingState !== undefined) this.sess.chargingState(evse.id, changes.chargingState);
    if (changes.powerPath !== undefined) this.sess.powerPath(evse.id, changes.powerPath);
  }

  private onPlugged(evse: Evse): void {
    // A reserved EVSE waits for its token before a session opens (the status stays Reserved).
    if (!evse.usable || this.reservations.forEvse(evse.id)) return;
    this.sess.evConnected(evse);
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
    this.recordedReset = kvGet<ResetKind>(this.db, KV_PENDING_RESET);
    kvDelete(this.db, KV_PENDING_RESET);
    this.availability = kvGet<Availability>(this.db, KV_AVAILABILITY) ?? { station: true, evses: {} };
    for (const evse of this.evses.values()) this.applyAvailability(evse);
    for (const evse of this.evses.values()) await this.metering.read(evse.id);
    await this.recover();
    this.reservations.load();
    // Before the EVSEs announce themselves: a zero limit already shows in the first status.
    this.chargingProfiles.start();
    this.siteLimit.start();
    if (this.hal.emergencyStop?.active) this.applyEmergencyStop(true);
    this.started = true;
    this.display?.start();
    for (const evse of this.evses.values()) {
      evse.announce();
      this.report(evse);
      this.openForCable(evse);
    }
    this.hal.reader?.on('token', this.onToken);
    this.hal.reader?.on('fault', this.onReaderFault);
    this.hal.reader?.on('fault-cleared', this.onReaderFaultCleared);
    this.hal.emergencyStop?.on('change', this.onEmergencyStop);
    storageHealth(this.db).on('fault', this.onStorageFault);
    storageHealth(this.db).on('recovered', this.onStorageRecovered);
    this.tellUnheardFaults();
    // A write that failed while the station came up (its event came before anyone listened).
    const storageFault = storageHealth(this.db).fault;
    if (storageFault) this.storageFailed(storageFault);
    this.log.info('station started', { evses: this.evseIds, lastReset: this.recordedReset });
  }

  /**
   * Faults raised before the station listened (drivers raise them while they are created): the EVSEs
   * hold theirs since construction (contactor rule, Faulted status); the adapters hear of them now,
   * and the reader's are taken as if their event came now.
   */
  private tellUnheardFaults(): void {
    for (const [id, faults] of this.unheardFaults) {
      const evse = this.evses.get(id);
      for (const f of faults) if (evse?.activeFaults.some((a) => a.kind === f.kind)) this.tell('fault-raised', id, f);
    }
    this.unheardFaults.clear();
    for (const f of this.hal.reader?.activeFaults ?? []) this.onReaderFault(f);
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
    // Records held back by a storage fault: one last try while the adapters still listen. If the
    // storage still fails, the sessions left open on disk are ended at the next start (PowerLoss).
    if (storageHealth(this.db).fault && probeWrite(this.db)) this.sess.storageRecovered();
    this.metering.stop();
    this.chargingProfiles.stop();
    this.siteLimit.stop();
    this.sess.stopTimers();
    this.reservations.stopTimers();
    this.hal.reader?.off('token', this.onToken);
    this.hal.reader?.off('fault', this.onReaderFault);
    this.hal.reader?.off('fault-cleared', this.onReaderFaultCleared);
    this.hal.emergencyStop?.off('change', this.onEmergencyStop);
    storageHealth(this.db).off('fault', this.onStorageFault);
    storageHealth(this.db).off('recovered', this.onStorageRecovered);
    this.clock.clear(this.storageProbe);
    this.storageProbe = undefined;
    this.display?.stop();
    this.started = false;
  }

  // ---- storage faults -------------------------------------------------------------------------

  /**
   * A durable write failed (disk full, I/O error, read-only): no session may run without its records.
   * Every EVSE takes a high-severity fault (contactor open, Faulted with the reason, no new session),
   * which ends the running sessions; their ends are kept (Sessions) and reported once writes work.
   * A probe write on the station clock finds out when.
   */
  private storageFailed(f: StorageFault): void {
    if (!this.started || this.stopping) return;
    this.log.error('storage fault: the database takes no writes; charging stopped until it does', { file: f.file, code: f.code, err: f.message });
    const fault = { kind: 'storage-failure' as const, severity: 'high' as const, detail: f.code, vendorCode: f.code };
    for (const evse of this.evses.values()) evse.raiseFault(fault);
    this.clock.clear(this.storageProbe);
    this.storageProbe = this.clock.setInterval(() => probeWrite(this.db), STORAGE_PROBE_MS);
  }

  private storageRecovered(): void {
    if (!this.started || this.stopping) return;
    // Held-back records first: the ends reach the adapters (and their outbox) before the EVSEs are free.
    if (!this.sess.storageRecovered()) return;
    this.clock.clear(this.storageProbe);
    this.storageProbe = undefined;
    this.log.info('storage works again: the held-back session records are written, the EVSEs are released');
    for (const evse of this.evses.values()) evse.clearFault('storage-failure');
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
  async presentToken(token: IdToken, evseId?: number): Promise<AuthInfo> {
    if (!this.started || this.stopping) return { status: 'Invalid' };
    if (this.releaseHeldLock(token, evseId)) return { status: 'Accepted' };
    const own = this.sess.findByToken(token.idToken);
    if (own && own.authorizedAt !== undefined) {
      if (evseId === undefined || own.evseId === evseId) {
        void this.sess.end(own.evseId, 'Local', 'StopAuthorized', token);
        return own.auth ?? { status: 'Accepted' };
      }
      return { ...(own.auth ?? {}), status: 'ConcurrentTx' };
    }
    // C09.FR.07 / E07.FR.01: a valid token known locally with the group of a running session stops it
    // without asking the CSMS; C16.FR.04/05 allow the same for a master pass.
    const local = this.authorizer.lookupLocal(token.idToken);
    if (local?.status === 'Accepted' && this.stopByGroup(token, local, evseId)) return local;

    if (storageHealth(this.db).fault) {
      // Asking the CSMS would only make it see an Authorize with no transaction after it.
      this.log.warn('token not taken: storage fault, no session can start', { idToken: token.idToken });
      return { status: 'Invalid' };
    }
    const decision = await this.authorizer.authorize(token, evseId);
    const info = decision.info;
    if (info.status !== 'Accepted') return info; // C09.FR.11: only an Accepted token stops a group mate
    if (this.stopByGroup(token, info, evseId)) return info;
    if (this.auth.masterPassGroupId !== undefined && info.groupId === this.auth.masterPassGroupId) {
      return info; // C16.FR.03: a master pass never starts a transaction
    }
    const evse = this.pickEvse(token, info.groupId, evseId);
    if (!evse) {
      this.log.info('token accepted but no EVSE can take it', { evseId });
      return info;
    }
    const reservation = this.reservations.forEvse(evse.id);
    if (reservation) this.reservations.end(reservation.id, 'Used');
    this.sess.authorize(evse, {
      idToken: token,
      auth: info,
      trigger: 'Authorized',
      offline: decision.offline,
      ...(reservation ? { reservationId: reservation.id } : {}),
    });
    return info;
  }

  /** E09.FR.03: the owner of a cable kept locked after an EV-side unplug gets it back. */
  private releaseHeldLock(token: IdToken, evseId: number | undefined): boolean {
    const groupId = this.authorizer.lookupLocal(token.idToken)?.groupId;
    for (const evse of this.evses.values()) {
      const h = this.sess.lockHolder(evse.id);
      if (!h || (evseId !== undefined && evse.id !== evseId)) continue;
      if (h.idToken === token.idToken || (h.groupId !== undefined && h.groupId === groupId)) {
        this.sess.releaseLock(evse);
        return true;
      }
    }
    return false;
  }

  /** Stop what a token of this group may stop (master pass: every session). True when it stopped something. */
  private stopByGroup(token: IdToken, info: AuthInfo, evseId: number | undefined): boolean {
    if (info.groupId === undefined) return false;
    const here = (s: Session): boolean => s.authorizedAt !== undefined && (evseId === undefined || s.evseId === evseId);
    if (this.auth.masterPassGroupId !== undefined && info.groupId === this.auth.masterPassGroupId) {
      // C16.FR.02: without a UI to choose, the master pass stops every ongoing session.
      const targets = this.sess.all().filter(here);
      for (const s of targets) void this.sess.end(s.evseId, 'MasterPass', 'StopAuthorized', token);
      return targets.length > 0;
    }
    const mate = this.sess.all().find((s) => here(s) && s.auth?.groupId === info.groupId);
    if (!mate) return false;
    void this.sess.end(mate.evseId, 'Local', 'StopAuthorized', token);
    return true;
  }

  evseFor(token: IdToken, groupId?: string): number | undefined {
    return this.pickEvse(token, groupId, undefined)?.id;
  }

  /** Where a token without an EVSE goes: its reservation, the EVSE waiting for one, the only one, the first free one. */
  private pickEvse(token: IdToken, groupId: string | undefined, evseId: number | undefined): Evse | undefined {
    const takes = (e: Evse): boolean =>
      e.usable && this.sess.get(e.id)?.authorizedAt === undefined && this.reservations.allows(e.id, token, groupId);
    if (evseId !== undefined) {
      const e = this.evses.get(evseId);
      return e && takes(e) ? e : undefined;
    }
    const all = [...this.evses.values()];
    const reserved = this.reservations.forToken(token, groupId);
    const bound = reserved ? this.evses.get(reserved.boundEvseId) : undefined;
    if (bound && takes(bound)) return bound;
    return (
      all.find((e) => takes(e) && this.sess.get(e.id) !== undefined && e.plugged) ??
      all.find((e) => takes(e) && e.plugged && e.connector().status !== 'Finishing') ??
      (all.length === 1 && takes(all[0]!) ? all[0] : undefined) ??
      all.find((e) => takes(e) && !e.plugged && this.sess.get(e.id) === undefined)
    );
  }

  async requestStart(evseId: number, token: IdToken, opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'> {
    const evse = this.evses.get(evseId);
    const free = (): boolean =>
      evse !== undefined &&
      this.started &&
      !this.stopping &&
      evse.usable &&
      this.sess.get(evseId)?.authorizedAt === undefined &&
      this.reservations.allows(evseId, token, opts.groupId);
    if (!evse || !free()) return 'Rejected';
    const own = this.sess.findByToken(token.idToken);
    if (own && own.authorizedAt !== undefined) return 'Rejected';
    const txProfile = opts.chargingProfile ? { ...opts.chargingProfile, evseId, purpose: 'TxProfile' as const } : undefined;
    if (txProfile) {
      delete txProfile.sessionId;
      const bad = this.chargingProfiles.checkShape(txProfile);
      if (bad) {
        this.log.info('remote start refused: its charging profile cannot be installed', { evseId, reason: bad });
        return 'Rejected';
      }
    }
    if (opts.preAuthorized) {
      const auth: AuthInfo = { status: 'Accepted', ...(opts.groupId !== undefined ? { groupId: opts.groupId } : {}) };
      this.grantRemoteStart(evse, token, auth, false, opts, txProfile);
      return 'Accepted';
    }
    // 1.6 §5.11 ("reply with RemoteStartTransaction.conf … and will attempt to start") and 2.0.1
    // F01.FR.01 ("will first respond to the request and then try to authorize"): the answer does not
    // wait for the authorization, so an Authorize.req goes after it, as everything the call causes.
    void this.authorizer
      .authorize(token, evseId)
      .then((d) => {
        if (d.info.status !== 'Accepted' || !free()) {
          this.log.info('remote start not authorized, no session started', { evseId, status: d.info.status });
          opts.refused?.();
          return;
        }
        this.grantRemoteStart(evse, token, d.info, d.offline, opts, txProfile);
      })
      .catch((err: unknown) => {
        this.log.error('remote start: authorization failed', { evseId, err: String(err) });
        opts.refused?.();
      });
    return 'Accepted';
  }

  private grantRemoteStart(
    evse: Evse,
    token: IdToken,
    auth: AuthInfo,
    offline: boolean,
    opts: RequestStartOptions,
    txProfile: ChargingProfile | undefined,
  ): void {
    const evseId = evse.id;
    const reservation = this.reservations.forEvse(evseId);
    if (reservation) this.reservations.end(reservation.id, 'Used');
    // With a session open already the TxProfile is in place before the authorization can close the contactor.
    const openBefore = this.sess.get(evseId) !== undefined;
    if (txProfile && openBefore) this.chargingProfiles.set(txProfile);
    this.sess.authorize(evse, {
      idToken: token,
      auth,
      trigger: 'RemoteStart',
      offline,
      ...(opts.remoteStartId !== undefined ? { remoteStartId: opts.remoteStartId } : {}),
      ...(reservation ? { reservationId: reservation.id } : {}),
    });
    if (txProfile && !openBefore) this.chargingProfiles.set(txProfile);
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
    if (evseId !== 0 && !this.evses.has(evseId)) return 'Rejected';
    if (evseId === 0) this.availability.station = operative;
    else this.availability.evses[String(evseId)] = operative;
    kvSet(this.db, KV_AVAILABILITY, this.availability);
    let scheduled = false;
    for (const evse of this.evses.values()) {
      if (evseId !== 0 && evse.id !== evseId) continue;
      if (!this.applyAvailability(evse)) scheduled = true;
    }
    return scheduled ? 'Scheduled' : 'Accepted';
  }

  /** Apply the wanted availability unless a running session must end first. True when applied. */
  private applyAvailability(evse: Evse): boolean {
    const evseWanted = this.availability.evses[String(evse.id)] ?? true;
    const stationWanted = this.availability.station;
    const goingDown = (!evseWanted && evse.evseOperativeSetting) || (!stationWanted && evse.operative);
    if (goingDown && this.sess.get(evse.id)) return false;
    evse.setOperative(evseWanted);
    evse.setStationOperative(stationWanted);
    this.openForCable(evse);
    return true;
  }

  /** A cable that is in while the EVSE could not take it (unavailable, faulted, reserved) gets its session once it can. */
  private openForCable(evse: Evse): void {
    if (!this.started || this.stopping || !evse.plugged || this.sess.cableHandled(evse.id) || this.sess.get(evse.id)) return;
    this.onPlugged(evse);
  }

  reset(kind: ResetKind, evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled' {
    if (this.resetting) return 'Rejected';
    if (evseId !== undefined && evseId !== 0) {
      if (!this.evses.has(evseId)) return 'Rejected';
      // An EVSE has no process of its own to restart: resetting it ends its session.
      if (kind === 'OnIdle' && this.sess.get(evseId)) return 'Scheduled';
      void this.sess.end(evseId, RESET_STOP[kind], 'ResetCommand');
      return 'Accepted';
    }
    if (kind === 'OnIdle' && !this.idle()) {
      this.resetOnIdle = kind;
      return 'Scheduled';
    }
    void this.performReset(kind);
    return 'Accepted';
  }

  private async performReset(kind: ResetKind): Promise<void> {
    this.resetting = true;
    this.resetOnIdle = undefined;
    // Recorded first: if the process dies while ending sessions, the next start still knows why.
    kvSet(this.db, KV_PENDING_RESET, kind);
    for (const s of this.sess.all()) void this.sess.end(s.evseId, RESET_STOP[kind], 'ResetCommand');
    await this.sess.settled();
    this.log.info('reset requested', { kind });
    this.tell('restart-requested', RESET_RESTART[kind]);
  }

  private afterSessionEnd(s: Session): void {
    const evse = this.evses.get(s.evseId);
    if (evse && !this.stopping) this.applyAvailability(evse);
    this.resetIfIdle();
  }

  private idle(): boolean {
    return this.sess.all().length === 0;
  }

  private resetIfIdle(): void {
    if (this.resetOnIdle && this.idle() && !this.resetting) void this.performReset(this.resetOnIdle);
  }

  reserve(r: Reservation): ReservationResult {
    return this.reservations.reserve(r);
  }

  cancelReservation(id: number): boolean {
    return this.reservations.cancel(id);
  }

  setLimit(evseId: number, amps: number | undefined): void {
    for (const evse of this.evses.values()) {
      if (evseId !== 0 && evse.id !== evseId) continue;
      if (amps === undefined) this.manualLimits.delete(evse.id);
      else this.manualLimits.set(evse.id, Math.max(0, amps));
      this.applyLimit(evse.id);
    }
  }

  /**
   * Put the EVSE's phase switch where the profiles want it (one phase, or its wiring). The switch moves
   * only with no current offered: the limit is held at 0 (the contactor opens in that tick) until the
   * relay has moved, so a per-phase limit meant for one phase is never offered on three. A switch that
   * fails keeps the hold, and the next reapply tries again.
   */
  private switchPhases(evseId: number, offered: { phases: 1 | 3; phaseToUse?: number } | undefined): void {
    const sw = this.evses.get(evseId)?.hal.phaseSwitch;
    if (!sw || this.switchingPhases.has(evseId)) return;
    const wiring = this.evses.get(evseId)!.hal.phases;
    const phases = offered?.phases ?? wiring;
    const line = (offered?.phaseToUse ?? 1) as 1 | 2 | 3;
    if (sw.phases === phases && (phases === 3 || sw.phase === line)) return;
    this.switchingPhases.add(evseId);
    this.applyLimit(evseId);
    this.log.info('switching phases', { evse: evseId, from: sw.phases, to: phases, ...(phases === 1 ? { phase: line } : {}) });
    sw.setPhases(phases, line).then(
      () => {
        this.switchingPhases.delete(evseId);
        // What the profiles want may have moved on meanwhile: ask again (switches again if needed).
        this.chargingProfiles.reapply();
        this.applyLimit(evseId);
      },
      (err: unknown) => {
        this.log.error('phase switch failed: no current offered on the EVSE until it works', { evse: evseId, err: String(err) });
        this.clock.setTimeout(() => {
          this.switchingPhases.delete(evseId);
          this.chargingProfiles.reapply();
        }, 10_000);
      },
    );
  }

  /**
   * The lowest of the manual limit, the charging profiles' one, the external limits on the EVSE and its
   * share of the site goes to the EVSE (pilot PWM, contactor). The last two are caps no profile lifts.
   */
  private applyLimit(evseId: number): void {
    const evse = this.evses.get(evseId);
    if (!evse) return;
    let limit = lowest(this.manualLimits.get(evseId), this.profileLimits.get(evseId), this.externalLimits.capA(evseId), this.siteLimit.capOf(evseId));
    if (this.switchingPhases.has(evseId)) limit = 0;
    if (limit !== evse.limit) evse.setLimit(limit);
    const max = evse.hal.maxCurrentA;
    const effective = limit === undefined ? max : Math.min(limit, max);
    if (effective !== (this.toldLimits.get(evseId) ?? max)) {
      this.toldLimits.set(evseId, effective);
      this.tell('limit', evseId, effective);
    }
  }

  /** What the EVSE would be offered without its share of the site: the share never exceeds it. */
  private wishA(evseId: number): number {
    const evse = this.evses.get(evseId);
    if (!evse) return 0;
    const pp = evse.hal.pilot.ppAmps;
    return (
      lowest(
        evse.hal.maxCurrentA,
        this.manualLimits.get(evseId),
        this.profileLimits.get(evseId),
        this.externalLimits.capA(evseId),
        pp !== null && pp > 0 ? pp : undefined,
      ) ?? evse.hal.maxCurrentA
    );
  }

  /**
   * The local cap a composite schedule reports for an EVSE (0: the whole station): its share while it has
   * an authorized session, else what all EVSEs may take together; with the external limits on it.
   */
  localCapA(evseId: number): number | undefined {
    const together = this.siteLimit.availableA();
    if (evseId === 0) return together;
    const share = this.sess.get(evseId)?.authorizedAt !== undefined ? this.siteLimit.capOf(evseId) : together;
    return lowest(share, this.externalLimits.capA(evseId));
  }

  externalConstraints(): ExternalConstraint[] {
    return this.externalLimits.list();
  }

  private applyEmergencyStop(active: boolean): void {
    for (const evse of this.evses.values()) {
      if (active) evse.raiseFault({ kind: 'emergency-stop', severity: 'high', vendorCode: 'EmergencyStop' });
      else evse.clearFault('emergency-stop');
    }
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

/** The lowest of the defined values; undefined when none is. */
function lowest(...values: (number | undefined)[]): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined) out = out === undefined ? v : Math.min(out, v);
  return out;
}
