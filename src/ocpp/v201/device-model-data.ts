/**
 * The components and variables this station reports (OCPP 2.0.1 part 2 appendix 2 / components.csv).
 * Definitions are data; only values live in SQLite (src/store/v201-device-model.ts), so a definition can
 * change between releases without a migration. Per-EVSE components are expanded from the station's EVSEs.
 */

export type AttributeType = 'Actual' | 'Target' | 'MinSet' | 'MaxSet';
export type Mutability = 'ReadOnly' | 'WriteOnly' | 'ReadWrite';
export type DataType =
  | 'string'
  | 'decimal'
  | 'integer'
  | 'dateTime'
  | 'boolean'
  | 'OptionList'
  | 'SequenceList'
  | 'MemberList';

export interface VariableDef {
  component: string;
  componentInstance?: string;
  evseId?: number;
  connectorId?: number;
  variable: string;
  variableInstance?: string;
  dataType: DataType;
  mutability: Mutability;
  persistent: boolean;
  constant?: boolean;
  unit?: string;
  minLimit?: number;
  maxLimit?: number;
  valuesList?: string;
  /** Default value per attribute type; the first key is the one attributes are reported in order. */
  defaults: Partial<Record<AttributeType, string>>;
  /** Setting it takes effect only after a reboot (B05: RebootRequired). */
  rebootRequired?: boolean;
  /** A logical controller component (…Ctrlr), not a physical part. */
  controller?: boolean;
  /** A further check of a value set by the CSMS: the problem, or undefined when it is fine. */
  check?: (value: string) => string | undefined;
}

const bool = (
  component: string,
  variable: string,
  value: boolean,
  mutability: Mutability = 'ReadWrite',
  variableInstance?: string,
): VariableDef => ({
  component,
  variable,
  variableInstance,
  dataType: 'boolean',
  mutability,
  persistent: true,
  defaults: { Actual: String(value) },
});

const int = (
  component: string,
  variable: string,
  value: number,
  opts: Partial<VariableDef> = {},
): VariableDef => ({
  component,
  variable,
  dataType: 'integer',
  mutability: 'ReadWrite',
  persistent: true,
  minLimit: 0,
  defaults: { Actual: String(value) },
  ...opts,
});

export const MEASURANDS =
  'Energy.Active.Import.Register,Energy.Active.Export.Register,Power.Active.Import,Current.Import,Current.Offered,Voltage,Frequency,SoC';

const TX_POINTS = 'ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed,EnergyTransfer';

/** Link settings whose config-file values are the defaults of their device-model variables. */
export interface LinkDefaults {
  callTimeoutS: number;
  pingIntervalS: number;
  retryAttempts: number;
  retryIntervalS: number;
}

const LINK_DEFAULTS: LinkDefaults = { callTimeoutS: 30, pingIntervalS: 30, retryAttempts: 5, retryIntervalS: 30 };

/** Station-wide components. */
export function stationVariables(
  identity: { model: string; vendor: string; firmwareVersion: string },
  link: LinkDefaults = LINK_DEFAULTS,
): VariableDef[] {
  return stationDefs(identity, link).map((d) => (d.component.endsWith('Ctrlr') ? { ...d, controller: true } : d));
}

function stationDefs(identity: { model: string; vendor: string; firmwareVersion: string }, link: LinkDefaults): VariableDef[] {
  return [
    { component: 'ChargingStation', variable: 'AvailabilityState', dataType: 'OptionList', mutability: 'ReadOnly', persistent: false, valuesList: 'Available,Occupied,Reserved,Unavailable,Faulted', defaults: { Actual: 'Available' } },
    bool('ChargingStation', 'Available', true, 'ReadOnly'),
    int('ChargingStation', 'SupplyPhases', 3, { mutability: 'ReadOnly', maxLimit: 3 }),
    { component: 'ChargingStation', variable: 'Model', dataType: 'string', mutability: 'ReadOnly', persistent: true, constant: true, defaults: { Actual: identity.model } },
    { component: 'ChargingStation', variable: 'VendorName', dataType: 'string', mutability: 'ReadOnly', persistent: true, constant: true, defaults: { Actual: identity.vendor } },
    { component: 'ChargingStation', variable: 'FirmwareVersion', dataType: 'string', mutability: 'ReadOnly', persistent: true, defaults: { Actual: identity.firmwareVersion } },

    { component: 'OCPPCommCtrlr', variable: 'ActiveNetworkProfile', dataType: 'integer', mutability: 'ReadOnly', persistent: false, defaults: { Actual: '0' } },
    // The link's timings apply at the next connection (RebootRequired): changing them mid-session would drop it.
    int('OCPPCommCtrlr', 'MessageTimeout', link.callTimeoutS, { variableInstance: 'Default', unit: 's', minLimit: 1, rebootRequired: true }),
    { component: 'OCPPCommCtrlr', variable: 'FileTransferProtocols', dataType: 'MemberList', mutability: 'ReadOnly', persistent: true, valuesList: 'FTP,FTPS,HTTP,HTTPS,SFTP', defaults: { Actual: 'HTTPS' } },
    int('OCPPCommCtrlr', 'HeartbeatInterval', 300, { unit: 's', minLimit: 1 }),
    { component: 'OCPPCommCtrlr', variable: 'NetworkConfigurationPriority', dataType: 'SequenceList', mutability: 'ReadWrite', persistent: true, valuesList: '0,1,2,3,4,5,6,7,8,9', defaults: { Actual: '0' }, rebootRequired: true },
    int('OCPPCommCtrlr', 'NetworkProfileConnectionAttempts', 3, { minLimit: 1 }),
    int('OCPPCommCtrlr', 'OfflineThreshold', 60, { unit: 's' }),
    int('OCPPCommCtrlr', 'MessageAttempts', link.retryAttempts, { variableInstance: 'TransactionEvent', minLimit: 1 }),
    int('OCPPCommCtrlr', 'MessageAttemptInterval', link.retryIntervalS, { variableInstance: 'TransactionEvent', unit: 's', minLimit: 1 }),
    bool('OCPPCommCtrlr', 'UnlockOnEVSideDisconnect', true),
    int('OCPPCommCtrlr', 'WebSocketPingInterval', link.pingIntervalS, { unit: 's', rebootRequired: true }),
    int('OCPPCommCtrlr', 'ResetRetries', 2),

    int('TxCtrlr', 'EVConnectionTimeOut', 120, { unit: 's', minLimit: 1 }),
    bool('TxCtrlr', 'StopTxOnEVSideDisconnect', true),
    bool('TxCtrlr', 'TxBeforeAcceptedEnabled', false),
    { component: 'TxCtrlr', variable: 'TxStartPoint', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: TX_POINTS, defaults: { Actual: 'PowerPathClosed' } },
    { component: 'TxCtrlr', variable: 'TxStopPoint', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: TX_POINTS, defaults: { Actual: 'EVConnected,Authorized' } },
    bool('TxCtrlr', 'StopTxOnInvalidId', true),

    // The station always authorizes (there is no free-charging mode in the core), so this cannot be switched off.
    bool('AuthCtrlr', 'Enabled', true, 'ReadOnly'),
    bool('AuthCtrlr', 'OfflineTxForUnknownIdEnabled', false),
    bool('AuthCtrlr', 'AuthorizeRemoteStart', false),
    bool('AuthCtrlr', 'LocalAuthorizeOffline', true),
    bool('AuthCtrlr', 'LocalPreAuthorize', false),
    { component: 'AuthCtrlr', variable: 'MasterPassGroupId', dataType: 'string', mutability: 'ReadWrite', persistent: true, maxLimit: 36, defaults: { Actual: '' } },

    bool('AuthCacheCtrlr', 'Enabled', true),
    bool('AuthCacheCtrlr', 'Available', true, 'ReadOnly'),
    int('AuthCacheCtrlr', 'LifeTime', 86400, { unit: 's' }),
    { component: 'AuthCacheCtrlr', variable: 'Policy', dataType: 'OptionList', mutability: 'ReadOnly', persistent: true, valuesList: 'LRU', defaults: { Actual: 'LRU' } },

    bool('LocalAuthListCtrlr', 'Enabled', true),
    bool('LocalAuthListCtrlr', 'Available', true, 'ReadOnly'),
    { component: 'LocalAuthListCtrlr', variable: 'Entries', dataType: 'integer', mutability: 'ReadOnly', persistent: false, defaults: { Actual: '0' } },
    int('LocalAuthListCtrlr', 'ItemsPerMessage', 200, { mutability: 'ReadOnly' }),
    int('LocalAuthListCtrlr', 'BytesPerMessage', 65536, { mutability: 'ReadOnly' }),

    bool('SampledDataCtrlr', 'Enabled', true),
    bool('SampledDataCtrlr', 'Available', true, 'ReadOnly'),
    bool('SampledDataCtrlr', 'SignReadings', false, 'ReadOnly'),
    { component: 'SampledDataCtrlr', variable: 'TxStartedMeasurands', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: MEASURANDS, defaults: { Actual: 'Energy.Active.Import.Register' } },
    { component: 'SampledDataCtrlr', variable: 'TxUpdatedMeasurands', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: MEASURANDS, defaults: { Actual: 'Energy.Active.Import.Register,Power.Active.Import' } },
    int('SampledDataCtrlr', 'TxUpdatedInterval', 60, { unit: 's' }),
    { component: 'SampledDataCtrlr', variable: 'TxEndedMeasurands', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: MEASURANDS, defaults: { Actual: 'Energy.Active.Import.Register' } },
    int('SampledDataCtrlr', 'TxEndedInterval', 0, { unit: 's' }),

    bool('AlignedDataCtrlr', 'Enabled', true),
    bool('AlignedDataCtrlr', 'Available', true, 'ReadOnly'),
    { component: 'AlignedDataCtrlr', variable: 'Measurands', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: MEASURANDS, defaults: { Actual: 'Energy.Active.Import.Register' } },
    int('AlignedDataCtrlr', 'Interval', 0, { unit: 's' }),
    bool('AlignedDataCtrlr', 'SendDuringIdle', false),
    { component: 'AlignedDataCtrlr', variable: 'TxEndedMeasurands', dataType: 'MemberList', mutability: 'ReadWrite', persistent: true, valuesList: MEASURANDS, defaults: { Actual: 'Energy.Active.Import.Register' } },
    int('AlignedDataCtrlr', 'TxEndedInterval', 0, { unit: 's' }),

    bool('ReservationCtrlr', 'Enabled', true),
    bool('ReservationCtrlr', 'Available', true, 'ReadOnly'),
    bool('ReservationCtrlr', 'NonEvseSpecific', true, 'ReadOnly'),

    int('DeviceDataCtrlr', 'ItemsPerMessage', 50, { variableInstance: 'GetReport', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'ItemsPerMessage', 50, { variableInstance: 'GetVariables', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'ItemsPerMessage', 50, { variableInstance: 'SetVariables', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'BytesPerMessage', 65536, { variableInstance: 'GetReport', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'BytesPerMessage', 65536, { variableInstance: 'GetVariables', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'BytesPerMessage', 65536, { variableInstance: 'SetVariables', mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'ConfigurationValueSize', 1000, { mutability: 'ReadOnly' }),
    int('DeviceDataCtrlr', 'ReportingValueSize', 2500, { mutability: 'ReadOnly' }),

    { component: 'ClockCtrlr', variable: 'DateTime', dataType: 'dateTime', mutability: 'ReadOnly', persistent: false, defaults: { Actual: '' } },
    // The host's clock (NTP) is the station's time; CSMS times from Heartbeat are not applied (B01.FR.06 n/a).
    { component: 'ClockCtrlr', variable: 'TimeSource', dataType: 'SequenceList', mutability: 'ReadOnly', persistent: true, valuesList: 'NTP,Heartbeat,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter', defaults: { Actual: 'NTP' } },

    { component: 'SecurityCtrlr', variable: 'OrganizationName', dataType: 'string', mutability: 'ReadWrite', persistent: true, defaults: { Actual: '' } },
    int('SecurityCtrlr', 'CertificateEntries', 0, { mutability: 'ReadOnly', persistent: false }),
    int('SecurityCtrlr', 'SecurityProfile', 0, { mutability: 'ReadOnly', maxLimit: 3 }),
    { component: 'SecurityCtrlr', variable: 'Identity', dataType: 'string', mutability: 'ReadOnly', persistent: true, defaults: { Actual: '' } },
    // A01 / TC_A_09: Accepted, then the link reconnects with it at once (security.ts).
    { component: 'SecurityCtrlr', variable: 'BasicAuthPassword', dataType: 'string', mutability: 'WriteOnly', persistent: true, minLimit: 16, maxLimit: 40, defaults: { Actual: '' } },
  ];
}

/** EVSE and its connector (one per EVSE on this hardware). */
export function evseVariables(evseId: number, maxPowerW: number): VariableDef[] {
  const evse = { component: 'EVSE', evseId };
  const conn = { component: 'Connector', evseId, connectorId: 1 };
  const states = 'Available,Occupied,Reserved,Unavailable,Faulted';
  return [
    { ...evse, variable: 'AvailabilityState', dataType: 'OptionList', mutability: 'ReadOnly', persistent: false, valuesList: states, defaults: { Actual: 'Available' } },
    { ...evse, variable: 'Available', dataType: 'boolean', mutability: 'ReadOnly', persistent: false, defaults: { Actual: 'true' } },
    // MaxSet is the installation limit a CSMS may lower; Actual is what the EVSE draws now.
    { ...evse, variable: 'Power', dataType: 'decimal', mutability: 'ReadOnly', persistent: false, unit: 'W', minLimit: 0, maxLimit: maxPowerW, defaults: { Actual: '0', MaxSet: String(maxPowerW) } },
    { ...evse, variable: 'SupplyPhases', dataType: 'integer', mutability: 'ReadOnly', persistent: true, defaults: { Actual: '3' } },
    { ...conn, variable: 'AvailabilityState', dataType: 'OptionList', mutability: 'ReadOnly', persistent: false, valuesList: states, defaults: { Actual: 'Available' } },
    { ...conn, variable: 'Available', dataType: 'boolean', mutability: 'ReadOnly', persistent: false, defaults: { Actual: 'true' } },
    { ...conn, variable: 'ConnectorType', dataType: 'string', mutability: 'ReadOnly', persistent: true, constant: true, defaults: { Actual: 'cType2' } },
    { ...conn, variable: 'SupplyPhases', dataType: 'integer', mutability: 'ReadOnly', persistent: true, defaults: { Actual: '3' } },
  ];
}

/**
 * SmartChargingCtrlr (K). Enabled, Available, Entries, ProfileStackLevel and PeriodsPerSchedule are read
 * live from the station's profile store (smart-charging.ts); the defaults here are what a report shows
 * of a station built with these limits. RateUnit is stored, so a station can be configured to take one unit.
 */
export function smartChargingVariables(limits: { maxStackLevel: number; maxPeriods: number; maxProfiles: number } | undefined): VariableDef[] {
  const on = limits !== undefined;
  const defs: VariableDef[] = [
    // ReadOnly: whether the station has smart charging at all; it cannot be switched off from the CSMS.
    bool('SmartChargingCtrlr', 'Enabled', on, 'ReadOnly'),
    bool('SmartChargingCtrlr', 'Available', on, 'ReadOnly'),
    { component: 'SmartChargingCtrlr', variable: 'Entries', variableInstance: 'ChargingProfiles', dataType: 'integer', mutability: 'ReadOnly', persistent: false, minLimit: 0, ...(on ? { maxLimit: limits.maxProfiles } : {}), defaults: { Actual: '0' } },
    int('SmartChargingCtrlr', 'ProfileStackLevel', limits?.maxStackLevel ?? 0, { mutability: 'ReadOnly' }),
    int('SmartChargingCtrlr', 'PeriodsPerSchedule', limits?.maxPeriods ?? 0, { mutability: 'ReadOnly' }),
    // Facts of the board (a phase-switch relay on every EVSE), read live (smart-charging.ts).
    bool('SmartChargingCtrlr', 'ACPhaseSwitchingSupported', false, 'ReadOnly'),
    bool('SmartChargingCtrlr', 'Phases3to1', false, 'ReadOnly'),
    { component: 'SmartChargingCtrlr', variable: 'RateUnit', dataType: 'MemberList', mutability: 'ReadOnly', persistent: true, valuesList: 'A,W', defaults: { Actual: 'A,W' } },
    // Thins out ChargingRateChanged (transactions.ts) and NotifyChargingLimit (external-limits.ts), SC.03.
    { component: 'SmartChargingCtrlr', variable: 'LimitChangeSignificance', dataType: 'decimal', mutability: 'ReadWrite', persistent: true, unit: 'Percent', minLimit: 0, maxLimit: 100, defaults: { Actual: '1.0' } },
  ];
  return defs.map((d) => ({ ...d, controller: true }));
}
