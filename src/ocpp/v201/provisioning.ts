/**
 * B05 SetVariables, B06 GetVariables, B07 GetBaseReport, B09 SetNetworkProfile, B11/B12 Reset.
 */
import { createRPCError } from 'ocpp-rpc';
import type {
  ComponentVariableType,
  GetBaseReportRequest,
  GetBaseReportResponse,
  GetReportRequest,
  GetReportResponse,
  GetVariablesRequest,
  GetVariablesResponse,
  NotifyReportRequest,
  ResetRequest,
  ResetResponse,
  SetNetworkProfileRequest,
  SetNetworkProfileResponse,
  SetVariablesRequest,
  SetVariablesResponse,
} from '../messages/v201.js';
import type { ComponentRef, ReportDatum } from './device-model.js';
import type { BootController } from './boot.js';
import type { V201Context } from './context.js';

const componentKey = (c: ComponentRef): string => `${c.name}/${c.instance ?? ''}@${c.evse?.id ?? ''}:${c.evse?.connectorId ?? ''}`;

function matchesCv(d: ReportDatum, cv: ComponentVariableType): boolean {
  const c = cv.component;
  if (d.component.name !== c.name) return false;
  if (c.instance !== undefined && d.component.instance !== c.instance) return false;
  if (c.evse !== undefined) {
    if (d.component.evse?.id !== c.evse.id) return false;
    if (c.evse.connectorId !== undefined && d.component.evse.connectorId !== c.evse.connectorId) return false;
  }
  if (!cv.variable) return true;
  if (d.variable.name !== cv.variable.name) return false;
  return cv.variable.instance === undefined || d.variable.instance === cv.variable.instance;
}

/** NotifyReport parts are kept small enough for any CSMS; tbc says more follow (B07.FR.05). */
const REPORT_PART_SIZE = 20;

export class Provisioning {
  private readonly reportIds = new Set<number>();

  constructor(
    private readonly ctx: V201Context,
    private readonly boot: BootController,
    /** A firmware installation runs (B11.FR.06: a Reset then is Rejected). */
    private readonly firmwareInstalling: () => boolean = () => false,
  ) {}

  register(): void {
    // B02.FR.01: the CSMS may read and change the configuration while the boot is Pending.
    this.ctx.handle('GetVariables', (p) => this.getVariables(p));
    this.ctx.handle('SetVariables', (p) => this.setVariables(p));
    this.ctx.handle('GetBaseReport', (p) => this.getBaseReport(p));
    this.ctx.handle('GetReport', (p) => this.getReport(p));
    this.ctx.handle('SetNetworkProfile', (p) => this.setNetworkProfile(p));
    this.ctx.handle('Reset', (p) => this.reset(p));
  }

  /** B06.FR.16 / B06.FR.17 (and the same for SetVariables): too many items or bytes → CALLERROR. */
  private checkSize(instance: 'GetVariables' | 'SetVariables', params: GetVariablesRequest | SetVariablesRequest, items: number): void {
    const maxItems = this.ctx.dm.int(`DeviceDataCtrlr.ItemsPerMessage/${instance}`);
    if (items > maxItems) throw createRPCError('OccurrenceConstraintViolation', `more than ${maxItems} items`);
    const maxBytes = this.ctx.dm.int(`DeviceDataCtrlr.BytesPerMessage/${instance}`);
    if (Buffer.byteLength(JSON.stringify(params)) > maxBytes) throw createRPCError('FormatViolation', `more than ${maxBytes} bytes`);
  }

  private getVariables(p: GetVariablesRequest): GetVariablesResponse {
    this.checkSize('GetVariables', p, p.getVariableData.length);
    return {
      getVariableResult: p.getVariableData.map((d) => this.ctx.dm.get(d.component, d.variable, d.attributeType ?? 'Actual')),
    };
  }

  private setVariables(p: SetVariablesRequest): SetVariablesResponse {
    this.checkSize('SetVariables', p, p.setVariableData.length);
    return {
      setVariableResult: p.setVariableData.map((d) =>
        this.ctx.dm.set(d.component, d.variable, d.attributeValue, d.attributeType ?? 'Actual'),
      ),
    };
  }

  private getBaseReport(p: GetBaseReportRequest): GetBaseReportResponse {
    return this.sendReport(p.requestId, this.ctx.dm.report(p.reportBase));
  }

  /** B08: the full inventory narrowed by componentVariable and / or componentCriteria. */
  private getReport(p: GetReportRequest): GetReportResponse {
    const cvs = p.componentVariable ?? [];
    if (cvs.length > this.ctx.dm.int('DeviceDataCtrlr.ItemsPerMessage/GetReport')) {
      throw createRPCError('OccurrenceConstraintViolation', 'too many componentVariable entries'); // B08.FR.17
    }
    let data = this.ctx.dm.report('FullInventory');
    if (cvs.length) data = data.filter((d) => cvs.some((cv) => matchesCv(d, cv))); // B08.FR.11, B08.FR.20-25
    const criteria = p.componentCriteria ?? [];
    if (criteria.length) {
      // B08.FR.07-10, B08.FR.13: a component qualifies when any criterion holds for it.
      const byComponent = new Map<string, ReportDatum[]>();
      for (const d of this.ctx.dm.report('FullInventory')) {
        const k = componentKey(d.component);
        byComponent.set(k, [...(byComponent.get(k) ?? []), d]);
      }
      const flag = (k: string, variable: string): boolean | undefined => {
        const d = byComponent.get(k)?.find((x) => x.variable.name === variable && !x.variable.instance);
        const v = d?.variableAttribute.find((a) => a.type === 'Actual')?.value;
        return d ? v === 'true' : undefined;
      };
      data = data.filter((d) => {
        const k = componentKey(d.component);
        return criteria.some((c) => (c === 'Problem' ? flag(k, 'Problem') === true : flag(k, c) !== false));
      });
    }
    return this.sendReport(p.requestId, data);
  }

  private sendReport(requestId: number, data: ReportDatum[]): GetReportResponse {
    if (data.length === 0) return { status: 'EmptyResultSet' }; // B08.FR.15
    // B08.FR.16: a report with the same requestId is still being sent.
    if (this.reportIds.has(requestId)) return { status: 'Rejected' };
    this.reportIds.add(requestId);
    this.ctx.afterResponse(async () => {
      const generatedAt = this.ctx.iso();
      for (let seqNo = 0, i = 0; i < data.length; seqNo++, i += REPORT_PART_SIZE) {
        const part = data.slice(i, i + REPORT_PART_SIZE);
        const msg: NotifyReportRequest = { requestId, generatedAt, seqNo, reportData: part };
        if (i + REPORT_PART_SIZE < data.length) msg.tbc = true;
        // B02.FR.02: a report the CSMS asked for may be sent while Pending.
        await this.ctx.send('NotifyReport', msg, { triggered: true });
      }
      this.reportIds.delete(requestId);
    });
    return { status: 'Accepted' };
  }

  /**
   * B09: validate and store the profile in its slot. Switching to another slot is the link's job and is
   * not done here: the stored slots and NetworkConfigurationPriority are what the link reads at start.
   */
  private setNetworkProfile(p: SetNetworkProfileRequest): SetNetworkProfileResponse {
    const slots = (this.ctx.dm.defs.find((d) => d.variable === 'NetworkConfigurationPriority')?.valuesList ?? '').split(',');
    if (!slots.includes(String(p.configurationSlot))) return { status: 'Rejected' }; // B09.FR.05
    const c = p.connectionData;
    if (c.securityProfile < this.ctx.dm.int('SecurityCtrlr.SecurityProfile')) return { status: 'Rejected' }; // B09.FR.04
    if (c.ocppVersion !== 'OCPP20' || c.ocppTransport !== 'JSON') return { status: 'Rejected' }; // B09.FR.02
    if (!/^wss?:\/\//.test(c.ocppCsmsUrl)) return { status: 'Rejected' };
    if (c.securityProfile >= 2 && !c.ocppCsmsUrl.startsWith('wss://')) return { status: 'Rejected' };
    // The active connection's slot is not replaced under it.
    if (String(p.configurationSlot) === this.ctx.dm.value('OCPPCommCtrlr.ActiveNetworkProfile') && this.ctx.dmRepo.networkProfiles().has(p.configurationSlot)) {
      return { status: 'Rejected' };
    }
    try {
      this.ctx.dmRepo.setNetworkProfile(p.configurationSlot, { ...c }, this.ctx.clock.now());
    } catch (err) {
      this.ctx.log.error('v201: storing network profile failed', { error: String(err) });
      return { status: 'Failed' }; // B09.FR.03
    }
    return { status: 'Accepted' };
  }

  private reset(p: ResetRequest): ResetResponse {
    if (p.evseId !== undefined && !this.ctx.station.evseIds.includes(p.evseId)) return { status: 'Rejected' };
    if (this.firmwareInstalling()) {
      // B11.FR.06: an installation under way cannot be interrupted; the CSMS may ask again afterwards.
      this.ctx.log.warn('v201 Reset rejected: a firmware installation is under way');
      return { status: 'Rejected' };
    }
    if (p.evseId === undefined) this.boot.setNextBootReason('RemoteReset');
    const status = this.ctx.station.reset(p.type, p.evseId);
    if (p.evseId === undefined && status === 'Rejected') this.boot.setNextBootReason('PowerUp');
    if (p.evseId === undefined && status === 'Scheduled') this.boot.setNextBootReason('ScheduledReset');
    return { status };
  }
}
