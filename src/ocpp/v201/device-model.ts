/**
 * The 2.0.1 device model (B05 SetVariables, B06 GetVariables, B07 GetBaseReport): definitions from
 * device-model-data.ts, values in SQLite, live values (availability, clock) from the adapter.
 */
import type { V201DeviceModelRepo } from '../../store/v201-device-model.js';
import type {
  ComponentType,
  EVSEType,
  GetVariableResultType,
  GetVariableStatusEnumType,
  SetVariableStatusEnumType,
  ReportBaseEnumType,
  ReportDataType,
  SetVariableResultType,
  VariableAttributeType,
  VariableType,
} from '../messages/v201.js';
import type { AttributeType, VariableDef } from './device-model-data.js';

export type EvseRef = EVSEType;
export type ComponentRef = ComponentType;
export type VariableRef = VariableType;
export type GetStatus = GetVariableStatusEnumType;
export type SetStatus = SetVariableStatusEnumType;
export type GetResult = GetVariableResultType;
export type SetResult = SetVariableResultType;
export type ReportBase = ReportBaseEnumType;

/** A NotifyReport ReportDataType as this device model builds it (with its attributes and characteristics always). */
export type ReportDatum = ReportDataType & Required<Pick<ReportDataType, 'variableCharacteristics'>> & {
  variableAttribute: (VariableAttributeType & { type: AttributeType })[];
};

/** "Component[/instance][@evse[:connector]].Variable[/instance]" — the key in SQLite and in the config file. */
export function keyOf(def: Pick<VariableDef, 'component' | 'componentInstance' | 'evseId' | 'connectorId' | 'variable' | 'variableInstance'>): string {
  let k = def.component;
  if (def.componentInstance) k += `/${def.componentInstance}`;
  if (def.evseId !== undefined) k += `@${def.evseId}`;
  if (def.connectorId !== undefined) k += `:${def.connectorId}`;
  k += `.${def.variable}`;
  if (def.variableInstance) k += `/${def.variableInstance}`;
  return k;
}

export type LiveValue = (def: VariableDef) => string | undefined;
export type ChangeListener = (def: VariableDef, value: string) => void;

const empty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

export class DeviceModel {
  private readonly byKey = new Map<string, VariableDef>();
  private readonly listeners: ChangeListener[] = [];

  constructor(
    private readonly repo: V201DeviceModelRepo,
    readonly defs: VariableDef[],
    private readonly now: () => number,
    private readonly live: LiveValue = () => undefined,
  ) {
    for (const d of defs) this.byKey.set(keyOf(d), d);
  }

  /** Write defaults and the config file's values, each only if the variable has no stored value yet. */
  seed(configured: Record<string, string>): string[] {
    const at = this.now();
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(configured)) {
      const def = this.byKey.get(key);
      if (!def) unknown.push(key);
      else this.repo.seed(key, 'Actual', value, at);
    }
    for (const d of this.defs) {
      for (const [attr, value] of Object.entries(d.defaults)) this.repo.seed(keyOf(d), attr, value, at);
    }
    return unknown;
  }

  onChange(fn: ChangeListener): void {
    this.listeners.push(fn);
  }

  /** Current Actual value by key (no access checks: for the adapter's own use). */
  value(key: string): string {
    const def = this.byKey.get(key);
    if (!def) throw new Error(`device model: no variable ${key}`);
    return this.read(def, 'Actual') ?? '';
  }

  int(key: string): number {
    const n = Number.parseInt(this.value(key), 10);
    return Number.isFinite(n) ? n : 0;
  }

  bool(key: string): boolean {
    return this.value(key) === 'true';
  }

  list(key: string): string[] {
    return this.value(key)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  /** Adapter-side write (e.g. ActiveNetworkProfile) — bypasses mutability, still notifies. */
  put(key: string, value: string): void {
    const def = this.byKey.get(key);
    if (!def) throw new Error(`device model: no variable ${key}`);
    this.repo.set(key, 'Actual', value, this.now());
    for (const l of this.listeners) l(def, value);
  }

  private read(def: VariableDef, attr: AttributeType): string | undefined {
    if (attr === 'Actual') {
      const v = this.live(def);
      if (v !== undefined) return v;
    }
    return this.repo.get(keyOf(def), attr) ?? def.defaults[attr];
  }

  private resolve(
    component: ComponentRef,
    variable: VariableRef,
  ): { status: 'UnknownComponent' | 'UnknownVariable' } | { status: 'found'; def: VariableDef } {
    const comps = this.defs.filter(
      (d) =>
        d.component === component.name &&
        (d.componentInstance ?? '') === (component.instance ?? '') &&
        d.evseId === component.evse?.id &&
        (component.evse?.connectorId === undefined || d.connectorId === component.evse.connectorId),
    );
    if (comps.length === 0) return { status: 'UnknownComponent' };
    const def = comps.find((d) => d.variable === variable.name && (d.variableInstance ?? '') === (variable.instance ?? ''));
    return def ? { status: 'found', def } : { status: 'UnknownVariable' };
  }

  get(component: ComponentRef, variable: VariableRef, attributeType: AttributeType = 'Actual'): GetResult {
    const base = { attributeType, component, variable };
    const r = this.resolve(component, variable);
    if (r.status !== 'found') return { ...base, attributeStatus: r.status };
    if (!(attributeType in r.def.defaults)) return { ...base, attributeStatus: 'NotSupportedAttributeType' };
    if (r.def.mutability === 'WriteOnly') return { ...base, attributeStatus: 'Rejected' };
    return { ...base, attributeStatus: 'Accepted', attributeValue: this.read(r.def, attributeType) ?? '' };
  }

  set(component: ComponentRef, variable: VariableRef, value: string, attributeType: AttributeType = 'Actual'): SetResult {
    const base = { attributeType, component, variable };
    const r = this.resolve(component, variable);
    if (r.status !== 'found') return { ...base, attributeStatus: r.status };
    const def = r.def;
    if (!(attributeType in def.defaults)) return { ...base, attributeStatus: 'NotSupportedAttributeType' };
    if (def.mutability === 'ReadOnly' || def.constant) return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'ReadOnly' } };
    const problem = this.validate(def, value);
    if (problem) return { ...base, attributeStatus: 'Rejected', attributeStatusInfo: { reasonCode: 'InvalidValue', additionalInfo: problem } };
    this.repo.set(keyOf(def), attributeType, value, this.now());
    if (attributeType === 'Actual') for (const l of this.listeners) l(def, value);
    return { ...base, attributeStatus: def.rebootRequired ? 'RebootRequired' : 'Accepted' };
  }

  /** Why a value does not fit the variable, or undefined when it fits (B05.FR.07, B05.FR.08). */
  validate(def: VariableDef, value: string): string | undefined {
    const max = this.byKey.has('DeviceDataCtrlr.ConfigurationValueSize') ? this.int('DeviceDataCtrlr.ConfigurationValueSize') : 1000;
    if (value.length > max) return `longer than ConfigurationValueSize ${max}`;
    const own = def.check?.(value);
    if (own) return own;
    const allowed = def.valuesList?.split(',');
    switch (def.dataType) {
      case 'boolean':
        return value === 'true' || value === 'false' ? undefined : 'not a boolean';
      case 'integer':
      case 'decimal': {
        const ok = def.dataType === 'integer' ? /^-?\d+$/.test(value) : /^-?\d+(\.\d+)?$/.test(value);
        if (!ok) return `not an ${def.dataType}`;
        const n = Number(value);
        if (def.minLimit !== undefined && n < def.minLimit) return `below ${def.minLimit}`;
        if (def.maxLimit !== undefined && n > def.maxLimit) return `above ${def.maxLimit}`;
        return undefined;
      }
      case 'string':
        if (def.minLimit !== undefined && value.length < def.minLimit) return `shorter than ${def.minLimit}`;
        if (def.maxLimit !== undefined && value.length > def.maxLimit) return `longer than ${def.maxLimit}`;
        return undefined;
      case 'dateTime':
        return Number.isNaN(Date.parse(value)) ? 'not a dateTime' : undefined;
      case 'OptionList':
        return allowed && !allowed.includes(value) ? `not one of ${def.valuesList}` : undefined;
      case 'MemberList':
      case 'SequenceList': {
        const members = value.split(',').map((s) => s.trim());
        if (members.some((m) => m === '')) return 'empty member';
        if (new Set(members).size !== members.length) return 'repeated member';
        const bad = allowed ? members.filter((m) => !allowed.includes(m)) : [];
        return bad.length ? `not in ${def.valuesList}: ${bad.join(',')}` : undefined;
      }
    }
  }

  /** B07: the report data of a base report. */
  report(base: ReportBase): ReportDatum[] {
    const out: ReportDatum[] = [];
    for (const def of this.defs) {
      if (base === 'ConfigurationInventory' && def.mutability === 'ReadOnly') continue;
      // B07: the summary is the state of the physical parts (station, EVSEs, connectors).
      if (base === 'SummaryInventory' && (def.controller || (def.variable !== 'AvailabilityState' && def.variable !== 'Available'))) continue;
      const component: ComponentRef = { name: def.component };
      if (def.componentInstance) component.instance = def.componentInstance;
      if (def.evseId !== undefined) component.evse = def.connectorId !== undefined ? { id: def.evseId, connectorId: def.connectorId } : { id: def.evseId };
      const variable: VariableRef = { name: def.variable };
      if (def.variableInstance) variable.instance = def.variableInstance;
      const attrs = (Object.keys(def.defaults) as AttributeType[]).map((type) => {
        const a: ReportDatum['variableAttribute'][number] = {
          type,
          mutability: def.mutability,
          persistent: def.persistent,
          constant: def.constant ?? false,
        };
        // B07: WriteOnly values (passwords) are never reported.
        const v = def.mutability === 'WriteOnly' ? undefined : empty(this.read(def, type));
        if (v !== undefined) a.value = v;
        return a;
      });
      const ch: ReportDatum['variableCharacteristics'] = { dataType: def.dataType, supportsMonitoring: false };
      if (def.unit) ch.unit = def.unit;
      if (def.minLimit !== undefined) ch.minLimit = def.minLimit;
      if (def.maxLimit !== undefined) ch.maxLimit = def.maxLimit;
      if (def.valuesList) ch.valuesList = def.valuesList;
      out.push({ component, variable, variableAttribute: attrs, variableCharacteristics: ch });
    }
    return out;
  }
}
