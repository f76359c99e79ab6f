/**
 * The measurands this station can report in 1.6 MeterValues (spec 7.31, 3.16), and the parsing of the
 * comma separated lists of the MeterValues*Data / StopTxn*Data keys. An item may carry a phase
 * suffix ("Voltage.L1", spec 9.1.17) to report that phase only.
 */
export const SUPPORTED_MEASURANDS = [
  'Energy.Active.Import.Register',
  'Energy.Active.Export.Register',
  'Power.Active.Import',
  'Current.Import',
  'Current.Offered',
  'Voltage',
  'Frequency',
  'SoC',
] as const;

export type Measurand = (typeof SUPPORTED_MEASURANDS)[number];
export type PhaseName = 'L1' | 'L2' | 'L3';

const PHASED: ReadonlySet<string> = new Set(['Current.Import', 'Voltage']);

export interface MeasurandItem {
  measurand: Measurand;
  /** Only this phase; undefined = every phase the meter gives. */
  phase?: PhaseName;
}

const isMeasurand = (s: string): s is Measurand => (SUPPORTED_MEASURANDS as readonly string[]).includes(s);
const isPhase = (s: string | undefined): s is PhaseName => s === 'L1' || s === 'L2' || s === 'L3';

/** Parse one CSL item; undefined when this station cannot report it. */
export function parseMeasurand(item: string): MeasurandItem | undefined {
  const s = item.trim();
  if (isMeasurand(s)) return { measurand: s };
  const m = /^(.*)\.(L1|L2|L3)$/.exec(s);
  const [, measurand, phase] = m ?? [];
  if (measurand !== undefined && PHASED.has(measurand) && isMeasurand(measurand) && isPhase(phase)) return { measurand, phase };
  return undefined;
}

export function splitCsl(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function parseMeasurandList(value: string): MeasurandItem[] {
  const out: MeasurandItem[] = [];
  for (const item of splitCsl(value)) {
    const m = parseMeasurand(item);
    if (m) out.push(m);
  }
  return out;
}
