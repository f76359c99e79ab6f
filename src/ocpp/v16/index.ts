/**
 * The OCPP 1.6J charge-point adapter: translates the version-neutral station into 1.6 messages and
 * the Central System's 1.6 calls into station commands. It is the list of blocks below over the
 * shared adapter kit (../kit): each block registers its own handlers and subscriptions; the parts
 * the blocks share are built here, once. See README.md for what each block implements.
 */
import type { AdapterDeps, AdapterFactory, OcppAdapter } from '../adapter.js';
import { AdapterKit } from '../kit/index.js';
import type { DataTransferResponse, V16Messages } from '../messages/v16.js';
import { authorizationBlock } from './authorization.js';
import { availabilityBlock } from './availability.js';
import { bootBlock, Registration } from './boot.js';
import { CaliforniaPricing, COSTMSG_VENDOR } from './california-pricing.js';
import { configurationBlock, V16Configuration } from './configuration.js';
import { connectorOf, v16Context, type BeforeBoot, type RegistrationState, type V16Block, type V16BlockContext, type V16Parts } from './context.js';
import { dataTransferBlock, V16DataTransfer, type DataTransferHandler } from './data-transfer.js';
import { diagnosticsBlock, V16Diagnostics } from './diagnostics.js';
import { firmwareBlock, V16Firmware } from './firmware.js';
import { InvalidIdEnergy } from './invalid-id.js';
import { LocalListConflicts } from './local-list-conflict.js';
import { remoteBlock } from './remote.js';
import { reservationsBlock } from './reservations.js';
import { securityBlock, V16Security } from './security.js';
import { smartChargingBlock } from './smart-charging.js';
import { StatusReporter } from './status.js';
import { Transactions, transactionsBlock } from './transactions.js';
import type { V16TxRecords } from './tx-record.js';

export { readV16LinkSettings } from './configuration.js';
export type { DataTransferHandler } from './data-transfer.js';

/**
 * The blocks in registration order, which is the order their listeners run in: configuration first
 * (link settings before the first connection), security before the others (its stored key applies
 * before the link connects; its event of this start is queued before the boot on the first open),
 * boot last (it boots on an open the other blocks have already reacted to).
 */
const BLOCKS: readonly V16Block[] = [
  configurationBlock,
  securityBlock,
  authorizationBlock,
  reservationsBlock,
  smartChargingBlock,
  firmwareBlock,
  diagnosticsBlock,
  dataTransferBlock,
  transactionsBlock,
  availabilityBlock,
  remoteBlock,
  bootBlock,
];

export interface V16Adapter extends OcppAdapter {
  readonly configuration: V16Configuration;
  readonly registration: RegistrationState;
  /** One record per 1.6 transaction (tx-record.ts). */
  readonly txRecords: V16TxRecords;
  /** Answer DataTransfer.req of this vendorId (others get UnknownVendorId, spec 4.3). */
  onDataTransfer(vendorId: string, handler: DataTransferHandler): void;
  /** A charge-point-initiated DataTransfer (spec 4.3); rejects when not Accepted. */
  dataTransfer(vendorId: string, messageId?: string, data?: string): Promise<DataTransferResponse>;
}

export const createV16Adapter: AdapterFactory = (deps) => new V16AdapterImpl(deps);

/** Same as createV16Adapter, typed with the 1.6 extras. */
export function createV16AdapterWithExtras(deps: AdapterDeps): V16Adapter {
  return new V16AdapterImpl(deps);
}

class V16AdapterImpl implements V16Adapter {
  readonly protocol = 'ocpp1.6' as const;
  readonly configuration: V16Configuration;
  private readonly kit: AdapterKit<V16Messages, BeforeBoot>;
  private readonly parts: V16Parts;
  get txRecords(): V16TxRecords {
    return this.parts.tx.records;
  }
  private started = false;

  constructor(deps: AdapterDeps) {
    const { station, config, clock, db } = deps;
    this.kit = new AdapterKit<V16Messages, BeforeBoot>(deps, {
      namespace: 'ocpp:v16',
      gate: {
        initial: 'offline',
        // 4.2: not carried out before the Central System accepted the charge point.
        blockedWhilePending: { RemoteStartTransaction: { status: 'Rejected' }, RemoteStopTransaction: { status: 'Rejected' } },
        rejectedMessage: 'Charge point is not accepted by the Central System',
      },
    });
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
      (m) => this.kit.log.warn(m),
    );
    const ctx = (block: string): V16BlockContext => v16Context(this.kit.context(block), this.configuration, () => this.parts);
    const status = new StatusReporter(ctx('availability'), (connectorId) => tx.startPending(connectorId));
    const conflicts = new LocalListConflicts(ctx('authorization'), (info) => status.localListConflict(info));
    const invalidId = new InvalidIdEnergy(ctx('tx'), (sessionId) => tx.records.get(sessionId)?.meterStart);
    const txLog = ctx('tx').log;
    const tx: Transactions = new Transactions(ctx('tx'), {
      idTagInfo: (idTag, info, source) => guard(txLog, 'LocalListConflict check', () => conflicts.check(idTag, info, source)),
      startSettled: (connectorId) => guard(txLog, 'StartTransaction answer', () => status.startSettled(connectorId)),
      invalidId: (sessionId, auth) => {
        try {
          return invalidId.onInvalid(sessionId, auth);
        } catch (err) {
          txLog.error('1.6: MaxEnergyOnInvalidId failed; energy stops now', { sessionId, error: String(err) });
          return false;
        }
      },
    });
    const california = new CaliforniaPricing(ctx('data-transfer'), {
      sessionOfTransaction: (id) => tx.sessionOfTransaction(id),
      transactionIdOf: (sessionId) => tx.transactionIdOf(sessionId),
    });
    const dataTransfer = new V16DataTransfer(ctx('data-transfer'));
    dataTransfer.onVendor(COSTMSG_VENDOR, california.handler);
    this.parts = {
      registration: new Registration(ctx('boot')),
      status,
      tx,
      conflicts,
      invalidId,
      firmware: new V16Firmware(ctx('firmware')),
      diagnostics: new V16Diagnostics(ctx('diagnostics')),
      security: new V16Security(ctx('security'), (sessionId) => tx.transactionIdOf(sessionId)),
      california,
      dataTransfer,
    };
  }

  get registration(): RegistrationState {
    return this.kit.gate.state;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.kit.restart();
    await this.kit.register(BLOCKS, (base) => v16Context(base, this.configuration, () => this.parts));
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.kit.stop();
  }

  onDataTransfer(vendorId: string, handler: DataTransferHandler): void {
    this.parts.dataTransfer.onVendor(vendorId, handler);
  }

  dataTransfer(vendorId: string, messageId?: string, data?: string): Promise<DataTransferResponse> {
    return this.parts.dataTransfer.send(vendorId, messageId, data);
  }
}

/** A hook another block runs inside its own work: its failure is logged, never the caller's. */
function guard(log: { error(msg: string, meta?: Record<string, unknown>): void }, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error(`1.6 adapter: ${what} failed`, { error: String(err) });
  }
}
