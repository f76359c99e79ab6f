/**
 * J01–J03: meter readings as 2.0.1 MeterValueType, filtered by the configured measurands; clock-aligned
 * values outside transactions as MeterValues; the sampling intervals follow the device model live.
 */
import type { MeterReading } from '../../station/api.js';
import type { MeterSample, SampleContext } from '../../station/api.js';
import type { MeasurandEnumType, MeterValueType, SampledValueType } from '../messages/v201.js';
import type { V201Context } from './context.js';

export type SampledValue = SampledValueType;
export type MeterValue = MeterValueType;

const PHASES = ['L1', 'L2', 'L3'] as const;
const round = (n: number): number => Math.round(n * 1000) / 1000;

/** One MeterValue with the wanted measurands of a reading (an empty list when none apply). */
export function toMeterValue(
  reading: MeterReading,
  context: SampleContext,
  measurands: string[],
  currentOfferedA: number | undefined,
  iso: (ms: number) => string,
): MeterValue | undefined {
  const out: SampledValue[] = [];
  const add = (measurand: MeasurandEnumType, value: number | undefined, unit: string, extra: Partial<SampledValue> = {}): void => {
    if (value === undefined || !Number.isFinite(value)) return;
    out.push({ value: round(value), context, measurand, ...extra, unitOfMeasure: { unit } });
  };
  for (const m of measurands) {
    switch (m) {
      case 'Energy.Active.Import.Register':
        add(m, reading.energyImportWh, 'Wh');
        break;
      case 'Energy.Active.Export.Register':
        add(m, reading.energyExportWh, 'Wh');
        break;
      case 'Power.Active.Import':
        add(m, reading.powerW, 'W');
        break;
      case 'Current.Import':
        for (const phase of PHASES) add(m, reading.currentA[phase], 'A', { phase });
        break;
      case 'Current.Offered':
        add(m, currentOfferedA, 'A');
        break;
      case 'Voltage':
        for (const phase of PHASES) add(m, reading.voltageV[phase], 'V', { phase: `${phase}-N` });
        break;
      case 'Frequency':
        add(m, reading.frequencyHz, 'Hz');
        break;
      case 'SoC':
        add(m, reading.socPercent, 'Percent', { location: 'EV' });
        break;
    }
  }
  return out.length ? { timestamp: iso(reading.at), sampledValue: out } : undefined;
}

export class Metering {
  /** Last power reading per EVSE: EVSE.Power Actual in the device model. */
  readonly powerW = new Map<number, number>();

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.onStation('meter', (s) => this.powerW.set(s.evseId, s.reading.powerW));
  }

  /** Push TxUpdatedInterval and AlignedDataCtrlr.Interval to the station (also on every change). */
  applyIntervals(): void {
    const dm = this.ctx.dm;
    this.ctx.station.setSampleInterval(dm.bool('SampledDataCtrlr.Enabled') ? dm.int('SampledDataCtrlr.TxUpdatedInterval') : 0);
    this.ctx.station.setAlignedInterval(dm.bool('AlignedDataCtrlr.Enabled') ? dm.int('AlignedDataCtrlr.Interval') : 0);
  }

  /** `iso` stamps the value (default: the CSMS's time now; queued TransactionEvents keep station time, see tx-events.ts). */
  meterValue(
    sample: MeterSample,
    measurandsKey: string,
    context: SampleContext = sample.context,
    iso: (ms: number) => string = (ms) => this.ctx.iso(ms),
  ): MeterValue | undefined {
    return toMeterValue(sample.reading, context, this.ctx.dm.list(measurandsKey), sample.currentOfferedA, iso);
  }

  /** J01: a clock-aligned sample outside a transaction, or a triggered one (F06.FR.06). */
  async sendMeterValues(sample: MeterSample, opts: { triggered?: boolean } = {}): Promise<void> {
    const mv = this.meterValue(sample, 'AlignedDataCtrlr.Measurands');
    if (!mv) return;
    await this.ctx.send('MeterValues', { evseId: sample.evseId, meterValue: [mv] }, opts);
  }
}
