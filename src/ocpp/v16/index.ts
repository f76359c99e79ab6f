/**
 * The OCPP 1.6J charge-point adapter: translates the version-neutral station into 1.6 messages and
 * the Central System's 1.6 calls into station commands. Parts: configuration keys (configuration.ts),
 * registration and heartbeat (boot.ts), StatusNotification (status.ts), transactions and meter
 * values (transactions.ts), CSMS-initiated calls (handlers.ts).
 */
import type { AdapterDeps, AdapterFactory, OcppAdapter } from '../adapter.js';
import type { OutboxMessage } from '../link.js';
import { callGateway } from '../call-failure.js';
import type { AuthInfo, ConnectorState, CsmsGateway, Fault as HalFault, FaultKind as HalFaultKind, IdToken, MeterSample, SessionEvent } from '../../station/api.js';
import { Registration } from './boot.js';
import { V16Configuration } from './configuration.js';
import { InvalidIdEnergy } from './invalid-id.js';
import { LocalListConflicts } from './local-list-conflict.js';
import { connectorOf, type RegistrationState, type V16Context } from './context.js';
import { V16Firmware } from './firmware.js';
import { v16Handlers, type DataTransferHandler } from './handlers.js';
import { V16Security } from './security.js';
import { StatusReporter } from './status.js';
import { authInfoOf, Transactions, type IdTagInfo } from './transactions.js';
import { CaliforniaPricing, COSTMSG_VENDOR } from './california-pricing.js';

export { readV16LinkSettings } from './configuration.js';
export type { DataTransferHandler } from './handlers.js';

export interface V16Adapter extends OcppAdapter {
  readonly configuration: V16Configuration;
  readonly registration: RegistrationState;
  /** Answer DataTransfer.req of this vendorId (others get UnknownVendorId, spec 4.3). */
  onDataTransfer(vendorId: string, handler: DataTransferHandler): void;
  /** A charge-point-initiated DataTransfer (spec 4.3); rejects when not Accepted. */
  dataTransfer(vendorId: string, messageId?: string, data?: string): Promise<{ status: string; data?: string }>;
}

export const createV16Adapter: AdapterFactory = (deps) => new V16AdapterImpl(deps);

/** Same as createV16Adapter, typed with the 1.6 extras. */
export function createV16AdapterWithExtras(deps: AdapterDeps): V16Adapter {
  return new V16AdapterImpl(deps);
}

class V16AdapterImpl implements V16Adapter {
  readonly protocol = 'ocpp1.6' as const;
  readonly configuration: V16Configuration;
  private readonly ctx: V16Context;
  private readonly reg: Registration;
  private readonly status: StatusReporter;
  private readonly tx: Transactions;
  private readonly security: V16Security;
  private readonly invalidId: InvalidIdEnergy;
  private readonly conflicts: LocalListConflicts;
  private readonly firmware: V16Firmware;
  private readonly vendors = new Map<string, DataTransferHandler>();
  private readonly gateway: CsmsGateway;
  private readonly california: CaliforniaPricing;
  private started = false;

  constructor(private readonly deps: AdapterDeps) {
    const { station, config, clock, db, log } = deps;
    this.configuration = new V16Configuration(
      db,
      {
        connectorIds: station.evseIds.map(connectorOf),
        phaseSwitch: station.evseIds.length > 0 && station.evseIds.every((id) => station.chargingProfiles?.phasesOf(id)?.phaseSwitch === true),
        heartbeatIntervalS: 300,
        pingIntervalS: config.ocpp.pingIntervalS,
        callTimeoutS: config.ocpp.callTimeoutS,
        retryAttempts: config.ocpp.outbox.retryAttempts,
        retryIntervalS: config.ocpp.outbox.retryIntervalS,
        securityProfile: config.ocpp.securityProfile,
        passwordEncoding: config.ocpp.passwordEncoding ?? 'text',
      },
      config.ocpp.v16?.configuration ?? {},
      clock.now(),
      (m) => log.warn(m),
    );
    // Closures (not copies) so that the context reads the live registration state and clock offset.
    const state = (): RegistrationState => this.reg.state;
    const offset = (): number => this.reg.offsetMs;
    this.ctx = {
      ...deps,
      cfg: this.configuration,
      get registration() {
        return state();
      },
      iso: (ms) => new Date(ms + offset()).toISOString(),
      fromIso: (iso) => Date.parse(iso) - offset(),
    };
    this.reg = new Registration(this.ctx, () => this.onAccepted());
    this.status = new StatusReporter(this.ctx, (connectorId) => this.tx.startPending(connectorId));
    this.conflicts = new LocalListConflicts(this.ctx, (info) => this.status.localListConflict(info));
    this.invalidId = new InvalidIdEnergy(this.ctx, (sessionId) => this.tx.repo.get(sessionId)?.meterStart);
    this.tx = new Transactions(this.ctx, {
      idTagInfo: (idTag, info, source) => this.guard('idTagInfo', () => this.conflicts.check(idTag, info, source)),
      startSettled: (connectorId) => this.guard('StartTransaction answer', () => this.status.startSettled(connectorId)),
      invalidId: (sessionId, auth) => {
        try {
          return this.invalidId.onInvalid(sessionId, auth);
        } catch (err) {
          deps.log.error('1.6: MaxEnergyOnInvalidId failed; energy stops now', { sessionId, error: String(err) });
          return false;
        }
      },
    });
    this.security = new V16Security(this.ctx, (sessionId) => this.tx.transactionIdOf(sessionId));
    this.california = new CaliforniaPricing(this.ctx, {
      sessionOfTransaction: (id) => this.tx.sessionOfTransaction(id),
      transactionIdOf: (sessionId) => this.tx.transactionIdOf(sessionId),
    });
    this.vendors.set(COSTMSG_VENDOR, this.california.handler);
    this.firmware = new V16Firmware(this.ctx);
    const online = (): boolean => deps.link.connected && state() === 'Accepted';
    this.gateway = {
      get online() {
        return online();
      },
      authorize: (token) => this.authorize(token),
    };
  }

  get registration(): RegistrationState {
    return this.reg.state;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { link, station } = this.deps;
    if (link.setRetryPolicy) this.configuration.markLive('TransactionMessageAttempts', 'TransactionMessageRetryInterval');
    this.applyAll();
    this.california.applyDefaultPrice();
    this.applyStoredLinkTiming();
    await this.security.start();
    this.configuration.onChange((key) => this.apply(key));
    for (const [action, h] of Object.entries(
      v16Handlers({
        ctx: this.ctx,
        tx: this.tx,
        status: this.status,
        boot: () => this.reg.boot(),
        heartbeat: () => this.reg.heartbeat(),
        vendors: this.vendors,
        firmware: this.firmware,
      }),
    ))
      link.handle(action, h);
    this.tx.attach();
    this.firmware.recoverInterrupted();
    station.setCsms(this.gateway);
    station.on('status', this.onStatus);
    station.on('session', this.onSession);
    station.on('meter', this.onMeter);
    station.on('fault-raised', this.onFault);
    station.on('fault-cleared', this.onFaultCleared);
    link.on('open', this.onOpen);
    link.on('message-dead', this.onDead);
    link.on('close', this.onClose);
    this.tx.syncRunning();
    if (link.connected) this.reg.linkOpened();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const { link, station } = this.deps;
    station.off('status', this.onStatus);
    station.off('session', this.onSession);
    station.off('meter', this.onMeter);
    station.off('fault-raised', this.onFault);
    station.off('fault-cleared', this.onFaultCleared);
    link.off('open', this.onOpen);
    link.off('message-dead', this.onDead);
    link.off('close', this.onClose);
    this.security.stop();
    this.firmware.stop();
    this.invalidId.stop();
    this.reg.stop();
    this.status.stop();
  }

  onDataTransfer(vendorId: string, handler: DataTransferHandler): void {
    this.vendors.set(vendorId, handler);
  }

  async dataTransfer(vendorId: string, messageId?: string, data?: string): Promise<{ status: string; data?: string }> {
    if (this.reg.state !== 'Accepted') throw new Error('not accepted by the Central System');
    const req: Record<string, string> = { vendorId };
    if (messageId !== undefined) req.messageId = messageId;
    if (data !== undefined) req.data = data;
    return this.deps.link.call('DataTransfer', req);
  }

  private readonly onOpen = (): void => {
    this.status.reset();
    this.reg.linkOpened();
  };

  private readonly onClose = (): void => {
    this.reg.linkClosed();
    this.status.stop();
    this.guard('DefaultPrice', () => this.california.applyDefaultPrice());
  };

  private readonly onStatus = (s: ConnectorState): void => this.guard('status', () => this.status.onStatus(s));
  private readonly onFault = (evseId: number, f: HalFault): void => this.guard('fault', () => this.status.onFault(evseId, f));
  private readonly onFaultCleared = (evseId: number, k: HalFaultKind): void =>
    this.guard('fault', () => this.status.onFaultCleared(evseId, k));
  private readonly onDead = (m: OutboxMessage): void => this.guard('dead message', () => this.tx.onDead(m));
  private readonly onSession = (e: SessionEvent): void =>
    this.guard('session', () => {
      if (e.type === 'ended') this.invalidId.forget(e.session.id);
      if (e.type === 'ended') this.california.onEnded(e.session.id);
      this.tx.onSession(e);
      if (e.type === 'authorized' || (e.type === 'started' && e.session.authorizedAt !== undefined)) this.california.onAuthorized(e.session.id, e.session.idToken?.idToken);
    });
  private readonly onMeter = (m: MeterSample): void =>
    this.guard('meter', () => {
      this.tx.onMeter(m);
      this.invalidId.onMeter(m);
    });

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.deps.log.error(`1.6 adapter failed on a station ${what} event`, { error: String(err) });
    }
  }

  private onAccepted(): void {
    this.status.sendAll();
    this.guard('DefaultPrice', () => this.california.applyDefaultPrice());
  }

  /**
   * WebSocketPingInterval / MessageTimeout answered RebootRequired when changed: this is the reboot.
   * Before the link's first connection reconfigure() only records them; later it reconnects once.
   */
  private applyStoredLinkTiming(): void {
    const { link, config, log } = this.deps;
    const pingIntervalS = this.configuration.int('WebSocketPingInterval');
    const callTimeoutS = this.configuration.int('MessageTimeout');
    if (!link.reconfigure || (pingIntervalS === config.ocpp.pingIntervalS && callTimeoutS === config.ocpp.callTimeoutS)) return;
    link.reconfigure({ pingIntervalS, callTimeoutS }).catch((err: unknown) => log.warn('1.6: link timing not applied', { error: String(err) }));
  }

  private applyAll(): void {
    for (const k of ['AuthorizationCacheEnabled', 'MeterValueSampleInterval', 'ClockAlignedDataInterval', 'TransactionMessageAttempts'])
      this.apply(k);
  }

  /** Keys that change station behaviour take effect at once. */
  private apply(key: string): void {
    const c = this.configuration;
    const { station } = this.deps;
    const a = station.auth;
    switch (key) {
      case 'MeterValueSampleInterval':
        station.setSampleInterval(c.int(key));
        return;
      case 'ClockAlignedDataInterval':
        station.setAlignedInterval(c.int(key));
        return;
      case 'HeartbeatInterval':
        this.reg.restartHeartbeat();
        return;
      case 'DefaultPrice':
        this.california.applyDefaultPrice();
        return;
      case 'TransactionMessageAttempts':
      case 'TransactionMessageRetryInterval':
        this.deps.link.setRetryPolicy?.({ attempts: c.int('TransactionMessageAttempts'), intervalS: c.int('TransactionMessageRetryInterval') });
        return;
      default:
        break;
    }
    // The authorization settings are few: refresh them all on any change.
    a.authorizationCacheEnabled = c.bool('AuthorizationCacheEnabled');
    a.localAuthListEnabled = c.bool('LocalAuthListEnabled');
    a.localPreAuthorize = c.bool('LocalPreAuthorize');
    a.localAuthorizeOffline = c.bool('LocalAuthorizeOffline');
    a.allowOfflineTxForUnknownId = c.bool('AllowOfflineTxForUnknownId');
    a.authorizeRemoteTxRequests = c.bool('AuthorizeRemoteTxRequests');
    a.stopTransactionOnInvalidId = c.bool('StopTransactionOnInvalidId');
    a.stopTxOnEVSideDisconnect = c.bool('StopTransactionOnEVSideDisconnect');
    a.unlockConnectorOnEVSideDisconnect = c.bool('UnlockConnectorOnEVSideDisconnect');
    a.connectionTimeOutS = c.int('ConnectionTimeOut');
  }

  /** Authorize.req (spec 4.1) for the station's authorization flow. */
  async authorize(token: IdToken): Promise<AuthInfo> {
    const online = this.deps.link.connected && this.reg.state === 'Accepted';
    const conf = await callGateway(online, () => this.deps.link.call<{ idTagInfo: IdTagInfo }>('Authorize', { idTag: token.idToken }));
    this.guard('Authorize answer', () => this.conflicts.check(token.idToken, conf.idTagInfo, 'Authorize'));
    return authInfoOf(conf.idTagInfo, this.ctx.fromIso);
  }
}
