/**
 * F01–F06: RequestStartTransaction (with a TxProfile: K05), RequestStopTransaction, UnlockConnector,
 * TriggerMessage.
 */
import type {
  RequestStartTransactionRequest,
  RequestStartTransactionResponse,
  RequestStopTransactionRequest,
  RequestStopTransactionResponse,
  TriggerMessageRequest,
  TriggerMessageResponse,
  UnlockConnectorRequest,
  UnlockConnectorResponse,
} from '../messages/v201.js';
import type { Availability } from './availability.js';
import type { BootController } from './boot.js';
import type { V201Context } from './context.js';
import type { V201Diagnostics } from './diagnostics.js';
import type { V201Firmware } from './firmware.js';
import type { Metering } from './metering.js';
import type { SmartCharging } from './smart-charging.js';
import type { Transactions } from './transactions.js';

export class RemoteControl {
  constructor(
    private readonly ctx: V201Context,
    private readonly parts: {
      firmware: V201Firmware;
      diagnostics: V201Diagnostics;
      boot: BootController;
      availability: Availability;
      metering: Metering;
      transactions: Transactions;
      smartCharging: SmartCharging;
    },
  ) {}

  register(): void {
    // B02.FR.05: while Pending both are Rejected (context.ts BLOCKED_WHILE_PENDING, the kit's gate).
    this.ctx.handle('RequestStartTransaction', (p) => this.requestStart(p));
    this.ctx.handle('RequestStopTransaction', (p) => this.requestStop(p));
    this.ctx.handle('UnlockConnector', (p) => this.unlock(p));
    this.ctx.handle('TriggerMessage', (p) => this.trigger(p));
  }

  /** F01 / F02 */
  private async requestStart(req: RequestStartTransactionRequest): Promise<RequestStartTransactionResponse> {
    const station = this.ctx.station;
    const evseId =
      req.evseId ??
      station.evseIds.find((id) => !station.session(id) && station.connector(id).status === 'Available') ??
      station.evseIds.find((id) => !station.session(id)?.authorizedAt);
    if (evseId === undefined || !station.evseIds.includes(evseId)) return { status: 'Rejected' };
    const running = station.session(evseId);
    // F01.FR.24: occupied by an authorized transaction; F01.FR.23: Unavailable or Faulted.
    if (running?.authorizedAt !== undefined) return { status: 'Rejected' };
    const st = station.connector(evseId).status;
    if (st === 'Unavailable' || st === 'Faulted') return { status: 'Rejected' };
    // K05: a TxProfile for the transaction this start opens; an invalid one rejects the start (K05.FR.05).
    const tx = this.parts.smartCharging.forRemoteStart(req.chargingProfile, evseId);
    if (tx.rejected) return { status: 'Rejected', statusInfo: tx.rejected };
    const opts = {
      remoteStartId: req.remoteStartId,
      // AuthorizeRemoteStart: the token is authorized after this answer; a refusal forgets the request.
      refused: () => this.parts.transactions.remoteStartRequested(evseId, undefined),
      preAuthorized: !this.ctx.dm.bool('AuthCtrlr.AuthorizeRemoteStart'), // C05 / F01.FR.03
      ...(req.groupIdToken ? { groupId: req.groupIdToken.idToken } : {}),
      ...(tx.profile ? { chargingProfile: tx.profile } : {}),
    };
    // Marked before the call: the station may report the start while requestStart is still running.
    this.parts.transactions.remoteStartRequested(evseId, req.remoteStartId);
    const status = await station.requestStart(evseId, { idToken: req.idToken.idToken, type: req.idToken.type }, opts);
    if (status !== 'Accepted') this.parts.transactions.remoteStartRequested(evseId, undefined);
    const res: RequestStartTransactionResponse = { status };
    // F01.FR.13 (cable first, TxStartPoint EVConnected): the transaction already exists; give its id.
    if (status === 'Accepted' && running && this.parts.transactions.isStarted(running.id)) res.transactionId = running.id;
    return res;
  }

  /** F03 */
  private requestStop(req: RequestStopTransactionRequest): RequestStopTransactionResponse {
    const s = this.ctx.station.findSession(req.transactionId);
    if (!s || !this.parts.transactions.isStarted(s.id)) return { status: 'Rejected' };
    // F03.FR.07: a transaction waiting for its cable is still active; its energy is off already (F03.FR.02).
    if (this.parts.transactions.isWaiting(s.id)) {
      this.ctx.afterResponse(() => this.parts.transactions.remoteStopWaiting(s.id));
      return { status: 'Accepted' };
    }
    if (s.endedAt !== undefined) return { status: 'Rejected' };
    return { status: this.ctx.station.requestStop(s.id, 'Remote', 'RemoteStop') ? 'Accepted' : 'Rejected' };
  }

  /** F05 */
  private async unlock(req: UnlockConnectorRequest): Promise<UnlockConnectorResponse> {
    if (!this.ctx.station.evseIds.includes(req.evseId) || req.connectorId !== 1) return { status: 'UnknownConnector' };
    const r = await this.ctx.station.unlock(req.evseId);
    return { status: r === 'NotSupported' ? 'UnlockFailed' : r };
  }

  /** F06 */
  private trigger(req: TriggerMessageRequest): TriggerMessageResponse {
    const evseId = req.evse?.id;
    if (evseId !== undefined && evseId !== 0 && !this.ctx.station.evseIds.includes(evseId)) return { status: 'Rejected' };
    const opts = { triggered: true };
    switch (req.requestedMessage) {
      case 'BootNotification':
        return { status: this.parts.boot.trigger() ? 'Accepted' : 'Rejected' };
      case 'Heartbeat':
        this.ctx.afterResponse(() => this.parts.boot.heartbeat(opts));
        return { status: 'Accepted' };
      case 'StatusNotification':
        this.ctx.afterResponse(() =>
          evseId ? this.parts.availability.sendOne(evseId, opts) : this.parts.availability.sendAll(false, opts),
        );
        return { status: 'Accepted' };
      case 'MeterValues':
        this.ctx.afterResponse(async () => {
          for (const id of evseId ? [evseId] : this.ctx.station.evseIds) {
            const sample = await this.ctx.station.sampleNow(id, 'Trigger');
            if (sample) await this.parts.metering.sendMeterValues(sample, opts);
          }
        });
        return { status: 'Accepted' };
      case 'TransactionEvent': {
        if (!this.parts.transactions.openTransactions(evseId).length) return { status: 'Rejected' };
        this.ctx.afterResponse(() => void this.parts.transactions.trigger(evseId));
        return { status: 'Accepted' };
      }
      case 'FirmwareStatusNotification':
        this.ctx.afterResponse(() => this.parts.firmware.triggerFirmwareStatus()); // F06.FR.16, L01.FR.25/26
        return { status: 'Accepted' };
      case 'LogStatusNotification':
        this.ctx.afterResponse(() => this.parts.diagnostics.triggerLogStatus()); // F06.FR.15, N01.FR.13
        return { status: 'Accepted' };
      default:
        return { status: 'NotImplemented' }; // F06.FR.08
    }
  }
}
