/**
 * Turns a station meter sample into a 1.6 MeterValue (spec 4.7, 7.33, 7.43): one sampledValue per
 * configured measurand and phase, with unit, context and location, skipping what the meter does not
 * give (e.g. SoC of a real meter). Frequency carries no unit: 1.6 has none for Hertz (errata 3.86).
 */
import type { MeterReading, Phase } from '../../station/api.js';
import type { MeterValuesRequest } from '../messages/v16.js';
import type { Measurand, MeasurandItem } from './measurands.js';

export type ReadingContext = 'Sample.Periodic' | 'Sample.Clock' | 'Transaction.Begin' | 'Transaction.End' | 'Trigger' | 'Other';

/** One MeterValue of MeterValues.req / StopTransaction.req transactionData (the generated schema type). */
export type MeterValue = MeterValuesRequest['meterValue'][number];
export type SampledValue = MeterValue['sampledValue'][number];
type Unit = SampledValue['unit'];

const PHASES: Phase[] = ['L1', 'L2', 'L3'];

/** Decimal string without float noise: Wh and W to 0.1, the rest to 0.01. */
const num = (v: number, digits = 1): string => String(Math.round(v * 10 ** digits) / 10 ** digits);

export function sampledValues(
  reading: MeterReading,
  currentOfferedA: number,
  items: MeasurandItem[],
  context: ReadingContext,
): SampledValue[] {
  const out: SampledValue[] = [];
  const add = (measurand: Measurand, value: number, unit: Unit, extra: Partial<SampledValue> = {}, digits = 1): void => {
    const sv: SampledValue = { value: num(value, digits), context, measurand, location: 'Outlet', ...extra };
    if (unit !== undefined) sv.unit = unit;
    out.push(sv);
  };
  for (const { measurand, phase } of items) {
    switch (measurand) {
      case 'Energy.Active.Import.Register':
        add(measurand, reading.energyImportWh, 'Wh');
        break;
      case 'Energy.Active.Export.Register':
        if (reading.energyExportWh !== undefined) add(measurand, reading.energyExportWh, 'Wh');
        break;
      case 'Power.Active.Import':
        add(measurand, reading.powerW, 'W');
        break;
      case 'Current.Offered':
        add(measurand, currentOfferedA, 'A', {}, 2);
        break;
      case 'Current.Import':
        for (const p of PHASES) {
          const v = reading.currentA[p];
          if (v !== undefined && (phase === undefined || phase === p)) add(measurand, v, 'A', { phase: p }, 2);
        }
        break;
      case 'Voltage':
        for (const p of PHASES) {
          const v = reading.voltageV[p];
          if (v !== undefined && (phase === undefined || phase === p)) add(measurand, v, 'V', { phase: `${p}-N` });
        }
        break;
      case 'Frequency':
        if (reading.frequencyHz !== undefined) add(measurand, reading.frequencyHz, undefined, {}, 2);
        break;
      case 'SoC':
        if (reading.socPercent !== undefined) add(measurand, reading.socPercent, 'Percent', { location: 'EV' }, 0);
        break;
    }
  }
  return out;
}

export function meterValue(
  timestamp: string,
  reading: MeterReading,
  currentOfferedA: number,
  items: MeasurandItem[],
  context: ReadingContext,
): MeterValue | undefined {
  const sampledValue = sampledValues(reading, currentOfferedA, items, context);
  return sampledValue.length > 0 ? { timestamp, sampledValue } : undefined;
}

/**
 * StopTransactionMaxMeterValues (errata 3.91): keep the first and last values, drop intermediate
 * ones evenly.
 */
export function thin<T>(values: T[], max: number): T[] {
  if (values.length <= max) return values;
  if (max < 2) return values.slice(values.length - Math.max(max, 0));
  const out: T[] = [];
  const step = (values.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(values[Math.round(i * step)]!);
  return out;
}
