/**
 * I01–I06 of the 2.0.1 adapter, shown on the station's display (src/station/display-model.ts):
 *  I01 the driver's tariff: idTokenInfo.personalMessage of Authorize (authorization.ts puts it in AuthInfo);
 *  I02 running cost: CostUpdated and TransactionEvent responses' totalCost during the transaction;
 *  I03 final cost: totalCost of the Ended response, shown only when the station was online at the end
 *      (an Ended sent offline=true is late: the driver has gone; I03.FR.03) and not for TxStopPoint
 *      ParkingBayOccupancy (I03.FR.05);
 *  I04 TariffFallbackMessage for a driver without a tariff of his own (offline, or none given);
 *  I05 TotalCostFallbackMessage on the end screen when the Ended could not go out online;
 *  I06 updatedPersonalMessage of a TransactionEvent response replaces the tariff text.
 * Costs are in TariffCostCtrlr.Currency, which accepts ISO 4217 codes only (point 5: an unknown currency is
 * Rejected by SetVariables, InvalidValue).
 */
import type { V201Context } from './context.js';
import type { VariableDef } from './device-model-data.js';
import type { TxEventMessage, TxEventResponse } from './transactions.js';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export function tariffCostVariables(): VariableDef[] {
  const c = 'TariffCostCtrlr';
  const base = { component: c, persistent: true, controller: true } as const;
  return [
    { ...base, variable: 'Available', variableInstance: 'Tariff', dataType: 'boolean', mutability: 'ReadOnly', constant: true, defaults: { Actual: 'true' } },
    { ...base, variable: 'Available', variableInstance: 'Cost', dataType: 'boolean', mutability: 'ReadOnly', constant: true, defaults: { Actual: 'true' } },
    { ...base, variable: 'Enabled', variableInstance: 'Tariff', dataType: 'boolean', mutability: 'ReadWrite', defaults: { Actual: 'true' } },
    { ...base, variable: 'Enabled', variableInstance: 'Cost', dataType: 'boolean', mutability: 'ReadWrite', defaults: { Actual: 'true' } },
    {
      ...base,
      variable: 'Currency',
      dataType: 'string',
      mutability: 'ReadWrite',
      defaults: { Actual: 'EUR' },
      check: (v) => (CURRENCIES.has(v) ? undefined : 'not an ISO 4217 currency code'),
    },
    { ...base, variable: 'TariffFallbackMessage', dataType: 'string', mutability: 'ReadWrite', defaults: { Actual: '' } },
    { ...base, variable: 'TotalCostFallbackMessage', dataType: 'string', mutability: 'ReadWrite', defaults: { Actual: '' } },
  ];
}

export class TariffCost {
  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.handle('CostUpdated', (p) => {
      const { totalCost, transactionId } = p;
      const s = this.ctx.station.findSession(transactionId);
      // The response has no status: an unknown or ended transaction's cost is logged and not shown.
      if (!s || s.endedAt !== undefined) this.ctx.log.info('v201: CostUpdated for a transaction not running here', { transactionId });
      else if (this.costOn()) this.display()?.setCost(s.id, { amount: totalCost, currency: this.currency() });
      return {};
    });
    this.applySettings();
  }

  /** Enabled/Tariff and TariffFallbackMessage → the display; again whenever a TariffCostCtrlr variable changes. */
  applySettings(): void {
    this.display()?.showTariffs(this.tariffOn());
    this.display()?.setTariffFallback(this.tariffOn() ? this.ctx.dm.value('TariffCostCtrlr.TariffFallbackMessage') : undefined);
  }

  /** A TransactionEvent response arrived (live or from the outbox). */
  onResponse(msg: TxEventMessage, res: TxEventResponse): void {
    const id = msg.txKey;
    const display = this.display();
    if (!id || !display || !res) return;
    if (res.updatedPersonalMessage && this.tariffOn() && (res.updatedPersonalMessage.format === 'ASCII' || res.updatedPersonalMessage.format === 'UTF8')) {
      display.setSessionText(id, res.updatedPersonalMessage.content); // I06.FR.03
    }
    const ended = msg.payload.eventType === 'Ended';
    const late = msg.payload.offline === true;
    if (late) {
      // A cost answering a message queued offline is stale (the next live one brings the current cost);
      // I05.FR.02: for a transaction that ended offline the fallback is shown instead of the cost.
      const note = this.ctx.dm.value('TariffCostCtrlr.TotalCostFallbackMessage');
      if (ended && note) display.setFinalNote(id, note);
      return;
    }
    if (res.totalCost === undefined || !this.costOn()) return;
    if (ended && this.ctx.dm.list('TxCtrlr.TxStopPoint').includes('ParkingBayOccupancy')) return; // I03.FR.05
    display.setCost(id, { amount: res.totalCost, currency: this.currency() }, ended); // I02.FR.04 / I03.FR.03
  }

  private display() {
    return this.ctx.station.display;
  }

  private currency(): string {
    return this.ctx.dm.value('TariffCostCtrlr.Currency') || 'EUR';
  }

  private costOn(): boolean {
    return this.ctx.dm.bool('TariffCostCtrlr.Enabled/Cost');
  }

  private tariffOn(): boolean {
    return this.ctx.dm.bool('TariffCostCtrlr.Enabled/Tariff');
  }
}
