/**
 * OCA application note "OCPP & California Pricing Requirements", the OCPP 1.6 part: DataTransfer with
 * vendorId org.openchargealliance.costmsg and messageId SetUserPrice ({idToken, priceText}), RunningCost
 * ({transactionId, timestamp, meterValue, cost, state, chargingPrice, …}) and FinalCost ({transactionId,
 * cost, priceText, qrCodeText?}), JSON in the DataTransfer data string; configuration keys
 * CustomDisplayCostAndPrice (read-only true) and DefaultPrice (JSON {priceText, priceTextOffline?,
 * chargingPrice?}). What they carry goes to the station's display model, like 2.0.1's I block.
 *
 * Not done: idle fees (idlePrice), nextPeriod, triggerMeterValue (extra MeterValues at a time / energy /
 * power / status), multi-language texts (DefaultPriceText,<lang>), TimeOffset, qrCodeText, computing a
 * running cost locally from chargingPrice while offline. Prices carry no currency in 1.6: the CSMS
 * formats its texts; costs are shown as plain numbers.
 */
import type { KeyDef } from './config-keys.js';
import type { V16Context } from './context.js';
import type { DataTransferHandler } from './data-transfer.js';

export const COSTMSG_VENDOR = 'org.openchargealliance.costmsg';

interface DefaultPrice {
  priceText: string;
  priceTextOffline?: string;
  chargingPrice?: { kWhPrice?: number; hourPrice?: number; flatFee?: number };
}

function parseObject(s: string | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isPrice = (v: unknown): v is DefaultPrice['chargingPrice'] =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.entries(v).every(([k, n]) => ['kWhPrice', 'hourPrice', 'flatFee'].includes(k) && typeof n === 'number' && n >= 0);

/** DefaultPrice as the application note shapes it; undefined when it is not. */
export function parseDefaultPrice(s: string): DefaultPrice | undefined {
  const o = parseObject(s);
  if (!o || typeof o.priceText !== 'string') return undefined;
  const { priceText, priceTextOffline, chargingPrice } = o;
  if (priceTextOffline !== undefined && typeof priceTextOffline !== 'string') return undefined;
  if (chargingPrice !== undefined && !isPrice(chargingPrice)) return undefined;
  const p: DefaultPrice = { priceText };
  if (priceTextOffline !== undefined) p.priceTextOffline = priceTextOffline;
  if (chargingPrice !== undefined) p.chargingPrice = chargingPrice;
  return p;
}

export const CALIFORNIA_KEYS: readonly KeyDef[] = [
  { key: 'CustomDisplayCostAndPrice', type: 'boolean', readonly: true, default: () => 'true' },
  // Empty until the CSMS sets it (ChangeConfiguration); a value that is not the note's JSON is Rejected.
  { key: 'DefaultPrice', type: 'string', readonly: false, default: () => '', check: (v) => v === '' || parseDefaultPrice(v) !== undefined },
];

type Answer = Awaited<ReturnType<DataTransferHandler>>;

export class CaliforniaPricing {
  /** SetUserPrice for a token with no session yet: applied when its session is authorized. */
  private readonly pendingByToken = new Map<string, string>();
  /**
   * transactionId → session of recently ended transactions: FinalCost comes after StopTransaction.conf,
   * when the transaction's row is already gone (transactions.ts deletes it once the stop is delivered).
   */
  private readonly ended = new Map<number, string>();

  constructor(
    private readonly ctx: V16Context,
    private readonly tx: { sessionOfTransaction(transactionId: number): string | undefined; transactionIdOf(sessionId: string): number | undefined },
  ) {}

  /** A session ended: keep its transactionId for a FinalCost that follows. */
  onEnded(sessionId: string): void {
    const id = this.tx.transactionIdOf(sessionId);
    if (id === undefined) return;
    this.ended.set(id, sessionId);
    for (const k of this.ended.keys()) {
      if (this.ended.size <= 32) break;
      this.ended.delete(k);
    }
  }

  readonly handler: DataTransferHandler = (messageId, data) => {
    if (!this.ctx.station.display) return { status: 'Rejected', data: 'this station has no display' };
    const o = parseObject(data);
    if (!o) return { status: 'Rejected', data: 'data is not a JSON object' };
    switch (messageId) {
      case 'SetUserPrice':
        return this.setUserPrice(o);
      case 'RunningCost':
        return this.cost(o, false);
      case 'FinalCost':
        return this.cost(o, true);
      default:
        return { status: 'UnknownMessageId' };
    }
  };

  /** A session was authorized: a user price that came first is its tariff text now. */
  onAuthorized(sessionId: string, idToken: string | undefined): void {
    const text = idToken !== undefined ? this.pendingByToken.get(idToken) : undefined;
    if (text === undefined) return;
    this.pendingByToken.delete(idToken!);
    this.ctx.station.display?.setSessionText(sessionId, text);
  }

  /** DefaultPrice (and the link state, for priceTextOffline) → the idle screen and the tariff fallback. */
  applyDefaultPrice(): void {
    const display = this.ctx.station.display;
    if (!display) return;
    const p = parseDefaultPrice(this.ctx.cfg.get('DefaultPrice'));
    const online = this.ctx.link.connected && this.ctx.registration === 'Accepted';
    const text = p ? (!online && p.priceTextOffline ? p.priceTextOffline : p.priceText) : undefined;
    display.setIdleText(text || undefined);
    display.setTariffFallback(text || undefined);
  }

  private setUserPrice(o: Record<string, unknown>): Answer {
    if (typeof o.idToken !== 'string' || typeof o.priceText !== 'string') return { status: 'Rejected', data: 'idToken and priceText (strings) are required' };
    const display = this.ctx.station.display!;
    const s = this.ctx.station.sessions().find((x) => x.idToken?.idToken === o.idToken && x.endedAt === undefined);
    if (s) display.setSessionText(s.id, o.priceText);
    else {
      this.pendingByToken.set(o.idToken, o.priceText);
      display.flash([o.priceText], 10_000);
    }
    return { status: 'Accepted' };
  }

  private cost(o: Record<string, unknown>, final: boolean): Answer {
    const { transactionId, cost } = o;
    if (typeof transactionId !== 'number' || !Number.isInteger(transactionId)) return { status: 'Rejected', data: 'transactionId (integer) is required' };
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) return { status: 'Rejected', data: 'cost (a number, not negative) is required' };
    const priceText = typeof o.priceText === 'string' ? o.priceText : undefined;
    if (final && priceText === undefined) return { status: 'Rejected', data: 'priceText (string) is required' };
    const sessionId = this.tx.sessionOfTransaction(transactionId) ?? this.ended.get(transactionId);
    if (sessionId === undefined) return { status: 'Rejected', data: `unknown transactionId ${transactionId}` };
    const display = this.ctx.station.display!;
    display.setCost(sessionId, { amount: cost, currency: '' }, final);
    if (final && priceText !== undefined) display.setFinalNote(sessionId, priceText);
    return { status: 'Accepted' };
  }
}
