/**
 * K11–K13 of the 2.0.1 adapter: limits set from outside the CSMS (an external control system, or the
 * station's own site limit, source EMS) are reported with NotifyChargingLimit when they are set or change
 * by at least SmartChargingCtrlr.LimitChangeSignificance percent of the value last told (K11.FR.02,
 * K12.FR.02, SC.03), with the schedule when NotifyChargingLimitWithSchedules is true (K11.FR.03,
 * K12.FR.03), never with source CSO (K11.FR.05, K12.FR.04); their release with ClearedChargingLimit
 * (K13.FR.02). The limit itself is the station's business (a cap no profile lifts, station.ts); the
 * TransactionEvent ChargingRateChanged it causes (K11.FR.04, K13.FR.03) comes from transactions.ts,
 * which sees every change of an EVSE's effective limit.
 *
 * While offline (or before the boot is accepted) nothing is sent: once accepted, the limits in force are
 * told again where they differ from what the CSMS last heard, and the ones released meanwhile are cleared.
 */
import type { ExternalConstraint, ExternalLimitChange } from '../../station/api.js';
import type {
  ChargingLimitSourceEnumType,
  ChargingProfileType,
  ChargingScheduleType,
  GetChargingProfilesRequest,
  NotifyChargingLimitRequest,
} from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { VariableDef } from './device-model-data.js';
import { changedBy } from './transactions.js';

/** SmartChargingCtrlr variables of K11–K14. */
export function externalLimitVariables(): VariableDef[] {
  return [
    // The station always obeys its external limits (the site limit among them): not switchable from the CSMS.
    { component: 'SmartChargingCtrlr', variable: 'ExternalControlSignalsEnabled', dataType: 'boolean', mutability: 'ReadOnly', persistent: true, defaults: { Actual: 'true' }, controller: true },
    { component: 'SmartChargingCtrlr', variable: 'NotifyChargingLimitWithSchedules', dataType: 'boolean', mutability: 'ReadWrite', persistent: true, defaults: { Actual: 'false' }, controller: true },
  ];
}

/** What the CSMS last heard of a constraint. */
type Told = Pick<ExternalConstraint, 'source' | 'evseId' | 'isGridCritical' | 'limitA'>;

/** The constraint as a 2.0.1 ChargingScheduleType: one period from when it was set, in A. */
export function externalSchedule(c: ExternalConstraint, iso: (ms: number) => string): ChargingScheduleType {
  return {
    id: c.profileId,
    startSchedule: iso(c.since),
    chargingRateUnit: 'A',
    chargingSchedulePeriod: [{ startPeriod: 0, limit: c.limitA }],
  };
}

/** One ReportChargingProfilesRequest's worth: one source, one EVSE. */
export interface ExternalReportPart {
  evseId: number;
  source: ChargingLimitSourceEnumType;
  profiles: ChargingProfileType[];
}

/**
 * K11.FR.06 / K12.FR.05 (TC_K_52_CS): the external limits matching a GetChargingProfilesRequest, each as a
 * ChargingStationExternalConstraints profile (negative id, stack level 0) in a report of its own source.
 */
export function externalReportParts(
  constraints: ExternalConstraint[],
  req: Pick<GetChargingProfilesRequest, 'evseId' | 'chargingProfile'>,
  iso: (ms: number) => string,
): ExternalReportPart[] {
  const f = req.chargingProfile;
  return constraints
    .filter(
      (c) =>
        (req.evseId === undefined || c.evseId === req.evseId) &&
        (f.chargingProfilePurpose === undefined || f.chargingProfilePurpose === 'ChargingStationExternalConstraints') &&
        (f.stackLevel === undefined || f.stackLevel === 0) &&
        (!f.chargingProfileId || f.chargingProfileId.includes(c.profileId)) &&
        (!f.chargingLimitSource || f.chargingLimitSource.includes(c.source)),
    )
    .sort((a, b) => a.evseId - b.evseId || b.profileId - a.profileId)
    .map((c) => ({
      evseId: c.evseId,
      source: c.source,
      profiles: [
        {
          id: c.profileId,
          stackLevel: 0,
          chargingProfilePurpose: 'ChargingStationExternalConstraints',
          chargingProfileKind: 'Absolute',
          chargingSchedule: [externalSchedule(c, iso)],
        },
      ],
    }));
}

export class ExternalLimitReports {
  private readonly told = new Map<string, Told>();

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.onStation('external-limit', (ch) => void this.onChange(ch));
  }

  /** After every accepted boot: bring the CSMS up to date. */
  async afterAccepted(): Promise<void> {
    const now = this.ctx.station.externalConstraints?.() ?? [];
    for (const key of [...this.told.keys()]) {
      const told = this.told.get(key)!;
      if (!now.some((c) => c.key === key)) await this.cleared({ key, profileId: 0, since: 0, ...told });
    }
    for (const c of now) await this.notify(c);
  }

  private async onChange(ch: ExternalLimitChange): Promise<void> {
    if (ch.type === 'set') await this.notify(ch.constraint);
    else await this.cleared(ch.constraint);
  }

  private async notify(c: ExternalConstraint): Promise<void> {
    let told = this.told.get(c.key);
    // Another source or EVSE under the same key: the limit the CSMS knows was released (e.g. while offline).
    if (told && (told.source !== c.source || told.evseId !== c.evseId) && this.ctx.maySend('ClearedChargingLimit')) {
      await this.cleared({ ...c, ...told });
      told = this.told.get(c.key);
    }
    const significance = Number(this.ctx.dm.value('SmartChargingCtrlr.LimitChangeSignificance')) || 0;
    if (told && told.source === c.source && told.evseId === c.evseId && told.isGridCritical === c.isGridCritical && !changedBy(told.limitA, c.limitA, significance)) return;
    if (!this.ctx.maySend('NotifyChargingLimit')) return;
    const withSchedule = this.ctx.dm.value('SmartChargingCtrlr.NotifyChargingLimitWithSchedules') === 'true';
    const payload: NotifyChargingLimitRequest = {
      chargingLimit: { chargingLimitSource: c.source, isGridCritical: c.isGridCritical },
      ...(c.evseId > 0 ? { evseId: c.evseId } : {}),
      ...(withSchedule ? { chargingSchedule: [externalSchedule(c, (ms) => this.ctx.iso(ms))] } : {}),
    };
    // Noted before the answer, so that a change meanwhile is measured against what is on its way.
    this.told.set(c.key, { source: c.source, evseId: c.evseId, isGridCritical: c.isGridCritical, limitA: c.limitA });
    const res = await this.ctx.send('NotifyChargingLimit', payload);
    if (res === undefined && this.told.get(c.key)?.limitA === c.limitA) this.told.delete(c.key);
  }

  private async cleared(c: ExternalConstraint): Promise<void> {
    const told = this.told.get(c.key);
    // Nothing to release where the CSMS never heard of the limit.
    if (!told || !this.ctx.maySend('ClearedChargingLimit')) return;
    this.told.delete(c.key);
    const res = await this.ctx.send('ClearedChargingLimit', { chargingLimitSource: told.source, ...(told.evseId > 0 ? { evseId: told.evseId } : {}) });
    if (res === undefined && !this.told.has(c.key)) this.told.set(c.key, told);
  }
}
