/**
 * The OCPP 2.0.1 adapter: translates the version-neutral station into 2.0.1 messages and back.
 * Each use-case block lives in its own file; this one wires them and owns start / stop.
 */
import type { TimerHandle } from '../../../base/clock.js';
import type { AdapterDeps, AdapterFactory, OcppAdapter } from '../adapter.js';
import type { OcppProtocol } from '../link.js';
import { V201DeviceModelRepo } from '../../store/v201-device-model.js';
import { V201TransactionRepo } from '../../store/v201-transactions.js';
import { Authorization } from './authorization.js';
import { Availability, mapStatus } from './availability.js';
import { BootController } from './boot.js';
import { AdapterKit } from '../kit/index.js';
import type { V201Messages } from '../messages/v201.js';
import { BLOCKED_WHILE_PENDING, V201Context, type V201Kit } from './context.js';
import { DataTransfer, type DataTransferResult, type VendorHandler } from './data-transfer.js';
import { evseVariables, smartChargingVariables, stationVariables, type VariableDef } from './device-model-data.js';
import { DeviceModel, keyOf } from './device-model.js';
import { DisplayMessages, displayMessageVariables } from './display-messages.js';
import { TariffCost, tariffCostVariables } from './tariff-cost.js';
import { ExternalLimitReports, externalLimitVariables } from './external-limits.js';
import { V201Diagnostics } from './diagnostics.js';
import { V201Firmware } from './firmware.js';
import { Metering } from './metering.js';
import { Provisioning } from './provisioning.js';
import { RemoteControl } from './remote.js';
import { Reservations } from './reservations.js';
import { V201Security } from './security.js';
import { SmartCharging } from './smart-charging.js';
import { Transactions } from './transactions.js';

/** Variables whose change must reach the station at once. */
const AUTH_KEYS = new Set([
  'AuthCacheCtrlr.Enabled',
  'LocalAuthListCtrlr.Enabled',
  'AuthCtrlr.LocalPreAuthorize',
  'AuthCtrlr.LocalAuthorizeOffline',
  'AuthCtrlr.OfflineTxForUnknownIdEnabled',
  'AuthCtrlr.AuthorizeRemoteStart',
  'AuthCtrlr.MasterPassGroupId',
  'TxCtrlr.StopTxOnInvalidId',
  'TxCtrlr.StopTxOnEVSideDisconnect',
  'TxCtrlr.EVConnectionTimeOut',
  'OCPPCommCtrlr.UnlockOnEVSideDisconnect',
  'AuthCacheCtrlr.LifeTime',
]);
const METER_KEYS = new Set([
  'SampledDataCtrlr.Enabled',
  'SampledDataCtrlr.TxUpdatedInterval',
  'AlignedDataCtrlr.Enabled',
  'AlignedDataCtrlr.Interval',
]);

export class V201Adapter implements OcppAdapter {
  readonly protocol: OcppProtocol = 'ocpp2.0.1';
  /** The adapter's own context (registration state, CSMS time); each block has its own (logger `ocpp:v201:<block>`). */
  readonly ctx: V201Context;
  private readonly kit: V201Kit;
  readonly deviceModel: DeviceModel;
  private readonly boot: BootController;
  private readonly availability: Availability;
  private readonly auth: Authorization;
  private readonly metering: Metering;
  /** The transactions block; its `records` hold one record per open transaction. */
  readonly transactions: Transactions;
  private readonly provisioning: Provisioning;
  private readonly remote: RemoteControl;
  private readonly dataTransfer: DataTransfer;
  private readonly reservations: Reservations;
  private readonly security: V201Security;
  private readonly smartCharging: SmartCharging;
  private readonly firmware: V201Firmware;
  private readonly diagnostics: V201Diagnostics;
  private readonly externalLimits: ExternalLimitReports;
  private readonly displayMessages: DisplayMessages;
  private readonly tariffCost: TariffCost;
  private readonly onOpen = (protocol: OcppProtocol): void => {
    if (protocol === this.protocol) this.boot.onOpen();
  };
  private readonly onClose = (): void => {
    this.offlineSince ??= this.ctx.clock.now();
    this.boot.onClose();
  };
  /** When the connection was lost (B04), undefined while connected. */
  private offlineSince: number | undefined;

  constructor(deps: AdapterDeps) {
    const dmRepo = new V201DeviceModelRepo(deps.db);
    const txRepo = new V201TransactionRepo(deps.db);
    const maxPowerW = 230 * 3 * 32;
    const defs: VariableDef[] = [
      ...stationVariables(deps.config.station, {
        callTimeoutS: deps.config.ocpp.callTimeoutS,
        pingIntervalS: deps.config.ocpp.pingIntervalS,
        retryAttempts: deps.config.ocpp.outbox.retryAttempts,
        retryIntervalS: deps.config.ocpp.outbox.retryIntervalS,
      }),
      ...smartChargingVariables(deps.station.chargingProfiles?.limits),
      ...externalLimitVariables(),
      ...(deps.station.display ? [...displayMessageVariables(), ...tariffCostVariables()] : []),
      ...deps.station.evseIds.flatMap((id) => evseVariables(id, maxPowerW)),
    ];
    this.deviceModel = new DeviceModel(dmRepo, defs, () => deps.clock.now(), (def) => this.live(def));
    this.kit = new AdapterKit<V201Messages, 'None'>(deps, {
      namespace: 'ocpp:v201',
      gate: { initial: 'None', blockedWhilePending: BLOCKED_WHILE_PENDING, rejectedMessage: 'boot notification was rejected' },
    });
    this.ctx = new V201Context({ deps, kit: this.kit, dm: this.deviceModel, dmRepo, txRepo, csmsClock: { known: false } }, 'adapter');
    const block = (name: string): V201Context => this.ctx.forBlock(name);
    this.boot = new BootController(block('boot'), (first) => void this.afterAccepted(first));
    this.availability = new Availability(block('availability'));
    this.auth = new Authorization(block('authorization'));
    this.metering = new Metering(block('metering'));
    this.transactions = new Transactions(block('transactions'), this.metering);
    this.provisioning = new Provisioning(block('device-model'), this.boot, () => this.firmware.installing, (evseId) => this.transactions.hasWaiting(evseId));
    this.transactions.onWaitingOver = () => this.provisioning.waitingOver();
    this.smartCharging = new SmartCharging(block('smart-charging'), (id) => this.transactions.isStarted(id));
    this.firmware = new V201Firmware(block('firmware'));
    this.diagnostics = new V201Diagnostics(block('diagnostics'));
    this.externalLimits = new ExternalLimitReports(block('external-limits'));
    this.displayMessages = new DisplayMessages(block('display-messages'));
    this.tariffCost = new TariffCost(block('tariff-cost'));
    this.transactions.onResponse = (msg, res) => this.tariffCost.onResponse(msg, res);
    this.remote = new RemoteControl(block('remote'), {
      firmware: this.firmware,
      diagnostics: this.diagnostics,
      boot: this.boot,
      availability: this.availability,
      metering: this.metering,
      transactions: this.transactions,
      smartCharging: this.smartCharging,
    });
    this.dataTransfer = new DataTransfer(block('data-transfer'));
    this.reservations = new Reservations(block('reservations'));
    this.security = new V201Security(block('security'), () => this.deviceModel.int('SecurityCtrlr.SecurityProfile'));
  }

  /** Values that are facts of the running station rather than stored settings. */
  private live(def: VariableDef): string | undefined {
    const station = this.ctx?.station;
    if (!station) return undefined;
    const physical = def.component === 'ChargingStation' || def.component === 'EVSE' || def.component === 'Connector';
    if (physical && (def.variable === 'AvailabilityState' || def.variable === 'Available')) {
      const ids = def.evseId !== undefined ? [def.evseId] : station.evseIds;
      const states = ids.map((id) => mapStatus(station.connector(id).status));
      const state = def.evseId !== undefined ? states[0]! : states.every((s) => s === 'Unavailable') ? 'Unavailable' : states.every((s) => s === 'Faulted') ? 'Faulted' : 'Available';
      return def.variable === 'Available' ? String(state !== 'Unavailable' && state !== 'Faulted') : state;
    }
    if (def.component === 'EVSE' && def.variable === 'Power' && def.evseId !== undefined) {
      const w = this.metering?.powerW.get(def.evseId);
      return w === undefined ? undefined : String(Math.round(w));
    }
    if (def.component === 'SmartChargingCtrlr') return this.smartCharging?.live(def);
    if (def.component === 'DisplayMessageCtrlr' && def.variable === 'DisplayMessages') return String(this.displayMessages?.count() ?? 0);
    if (def.component === 'ClockCtrlr' && def.variable === 'DateTime') return this.ctx.iso();
    if (def.component === 'SecurityCtrlr' && def.variable === 'SecurityProfile') {
      return String(this.activeSecurityProfile ?? this.ctx.deps.config.ocpp.securityProfile);
    }
    if (def.component === 'SecurityCtrlr' && def.variable === 'Identity') return this.ctx.deps.config.station.identity;
    return undefined;
  }

  async start(): Promise<void> {
    const unknown = this.deviceModel.seed(this.ctx.deps.config.ocpp.v201.variables ?? {});
    for (const key of unknown) this.ctx.log.warn('v201: config names an unknown variable', { key });
    this.deviceModel.onChange((def) => {
      const key = keyOf(def);
      if (AUTH_KEYS.has(key)) this.auth.applySettings();
      if (METER_KEYS.has(key)) this.metering.applyIntervals();
      if (key === 'OCPPCommCtrlr.HeartbeatInterval') this.boot.startHeartbeat();
      if (key.startsWith('OCPPCommCtrlr.MessageAttempt')) this.applyRetryPolicy();
      if (key.startsWith('TariffCostCtrlr.') && this.ctx.station.display) this.tariffCost.applySettings();
    });
    this.availability.register();
    this.auth.register();
    this.transactions.register();
    this.provisioning.register();
    this.remote.register();
    this.firmware.register();
    this.diagnostics.register();
    this.dataTransfer.register();
    this.reservations.register();
    this.security.register();
    this.smartCharging.register();
    this.externalLimits.register();
    if (this.ctx.station.display) {
      this.displayMessages.register();
      this.tariffCost.register();
    }
    this.metering.register();
    this.metering.applyIntervals();
    this.applyRetryPolicy();
    await this.applyNetworkProfile();
    this.security.startup();
    this.ctx.onLink('open', this.onOpen);
    this.ctx.onLink('close', this.onClose);
    if (this.ctx.link.connected && this.ctx.link.protocol === this.protocol) this.boot.onOpen();
  }

  /**
   * B09 / B10: before the first connection, connect through the first slot of
   * NetworkConfigurationPriority that holds a stored profile (the config file's URL when none does), with
   * the BasicAuthPassword the CSMS set. The profile was answered RebootRequired, so it applies here; the
   * password was applied at once by reconnecting (security.ts) and is kept for every later start.
   * Not done: falling back to the next slot after NetworkProfileConnectionAttempts failures.
   */
  private async applyNetworkProfile(): Promise<void> {
    const link = this.ctx.link;
    if (!link.reconfigure || link.protocol !== undefined) return;
    this.deviceModel.put('OCPPCommCtrlr.ActiveNetworkProfile', '0'); // 0: the config file's connection
    const profiles = this.ctx.dmRepo.networkProfiles();
    const slot = this.deviceModel
      .list('OCPPCommCtrlr.NetworkConfigurationPriority')
      .map(Number)
      .find((n) => profiles.has(n));
    const changes: Parameters<NonNullable<typeof link.reconfigure>>[0] = {};
    if (slot !== undefined) {
      // Stored JSON (a NetworkConnectionProfileType the schema checked when it was set), read field by field.
      const p = profiles.get(slot) ?? {};
      if (typeof p.ocppCsmsUrl === 'string') changes.csmsUrl = p.ocppCsmsUrl;
      const sp = p.securityProfile;
      if (sp === 0 || sp === 1 || sp === 2 || sp === 3) changes.securityProfile = sp;
      if (typeof p.messageTimeout === 'number' && p.messageTimeout > 0) changes.callTimeoutS = p.messageTimeout;
    }
    const ocpp = this.ctx.deps.config.ocpp;
    const timeout = this.deviceModel.int('OCPPCommCtrlr.MessageTimeout/Default');
    if (changes.callTimeoutS === undefined && timeout !== ocpp.callTimeoutS) changes.callTimeoutS = timeout;
    const ping = this.deviceModel.int('OCPPCommCtrlr.WebSocketPingInterval');
    if (ping !== ocpp.pingIntervalS) changes.pingIntervalS = ping;
    // Basic auth belongs to security profiles 1 and 2 only.
    const profile = changes.securityProfile ?? ocpp.securityProfile;
    const password = this.ctx.dmRepo.get('SecurityCtrlr.BasicAuthPassword', 'Actual');
    if (password && (profile === 1 || profile === 2)) changes.password = password;
    if (Object.keys(changes).length === 0) return;
    try {
      await link.reconfigure(changes);
      if (slot !== undefined) {
        this.deviceModel.put('OCPPCommCtrlr.ActiveNetworkProfile', String(slot));
        this.guardNetworkProfile(slot);
      }
      if (changes.securityProfile !== undefined) this.activeSecurityProfile = changes.securityProfile;
    } catch (err) {
      // A bad stored profile must not keep the station off the network: stay on the config file's.
      this.ctx.log.error('v201: stored network profile not usable; using the configured one', { slot, error: String(err) });
    }
  }
  private activeSecurityProfile: number | undefined;
  private fallbackTimer: TimerHandle | undefined;

  /**
   * A stored profile that never connects must not cut the station off for good: when no connection
   * opened within NetworkProfileConnectionAttempts × (reconnect back-off + call timeout), go back to
   * the config file's connection (slot 0).
   */
  private guardNetworkProfile(slot: number): void {
    const ocpp = this.ctx.deps.config.ocpp;
    const attempts = Math.max(1, this.deviceModel.int('OCPPCommCtrlr.NetworkProfileConnectionAttempts'));
    const ms = attempts * (ocpp.reconnect.maxDelayS + ocpp.callTimeoutS) * 1000;
    const opened = (): void => this.ctx.clock.clear(this.fallbackTimer);
    this.ctx.link.once('open', opened);
    this.fallbackTimer = this.ctx.clock.setTimeout(() => {
      this.fallbackTimer = undefined;
      this.ctx.link.off('open', opened);
      if (this.ctx.stopped || this.ctx.link.connected) return;
      this.ctx.log.error('v201: no connection through the stored network profile; back to the configured one', { slot });
      this.activeSecurityProfile = undefined;
      this.deviceModel.put('OCPPCommCtrlr.ActiveNetworkProfile', '0');
      void this.ctx.link.reconfigure?.({ csmsUrl: ocpp.csmsUrl, securityProfile: ocpp.securityProfile, callTimeoutS: ocpp.callTimeoutS });
    }, ms);
  }

  /** E13: how often and how far apart a TransactionEvent is retried (the link never drops it silently). */
  private applyRetryPolicy(): void {
    this.ctx.link.setRetryPolicy?.({
      attempts: this.deviceModel.int('OCPPCommCtrlr.MessageAttempts/TransactionEvent'),
      intervalS: this.deviceModel.int('OCPPCommCtrlr.MessageAttemptInterval/TransactionEvent'),
    });
  }

  async stop(): Promise<void> {
    this.kit.stop();
    this.firmware.stop();
    this.diagnostics.stop();
    this.ctx.clock.clear(this.fallbackTimer);
    this.boot.stop();
  }

  /**
   * B01.FR.05 after a boot: every connector. B04 after a reconnect: every connector when the station was
   * offline longer than OfflineThreshold (B04.FR.01), else only those that changed (B04.FR.02).
   */
  private async afterAccepted(first: boolean): Promise<void> {
    // By now the station has started and reported the sessions a power cut left open; what is still
    // open here was missed (e.g. the adapter was not running then).
    if (first) this.transactions.recover();
    const offlineMs = this.offlineSince === undefined ? 0 : this.ctx.clock.now() - this.offlineSince;
    this.offlineSince = undefined;
    const long = offlineMs > this.deviceModel.int('OCPPCommCtrlr.OfflineThreshold') * 1000;
    await this.availability.sendAll(!first && !long);
    await this.externalLimits.afterAccepted();
  }

  /** P02: a vendor extension answering DataTransfer from the CSMS. */
  onDataTransfer(vendorId: string, fn: VendorHandler): void {
    this.dataTransfer.onVendor(vendorId, fn);
  }

  /** P01: DataTransfer to the CSMS. */
  sendDataTransfer(vendorId: string, messageId?: string, data?: unknown): Promise<DataTransferResult | undefined> {
    return this.dataTransfer.send(vendorId, messageId, data);
  }
}

export const createV201Adapter: AdapterFactory = (deps) => new V201Adapter(deps);
