/**
 * The hardware contract. One small interface per kind of part; each reports what the hardware sees
 * through typed events. Drivers (simulated or real) implement these; src/ only ever sees these types.
 */
import type { TypedEmitter } from '../base/emitter.js';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';

/** IEC 61851-1 control-pilot states. */
export type PilotState = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

/**
 * Faults a part can report. Each maps to an OCPP error code in the adapters
 * (1.6 ChargePointErrorCode; 2.0.1 StatusNotification Faulted + NotifyEvent).
 */
export type HalFaultKind =
  | 'contactor-welded' // feedback says closed while commanded open
  | 'contactor-stuck-open' // feedback says open while commanded closed
  | 'lock-failure'
  | 'meter-silent'
  | 'rcd-trip'
  | 'diode-failure'
  | 'pilot-error' // pilot state E/F reported by the board
  | 'pilot-board-lost' // heartbeat timeout of the pilot board
  | 'reader-failure'
  | 'overcurrent'
  | 'high-temperature'
  | 'ground-failure'
  | 'emergency-stop'
  | 'port-lost' // a serial/USB port went away
  | 'storage-failure' // raised by the station, not a driver: its database takes no writes (src/store/health.ts)
  | 'comm-failure'; // a command to a part could not be delivered (port gone, no answer): its state is unknown

export type FaultSeverity = 'high' | 'low';

export interface HalFault {
  kind: HalFaultKind;
  /** high: open the contactor and make the EVSE inoperative; low: stop charging cleanly. */
  severity: FaultSeverity;
  detail?: string;
  /** Free text for OCPP vendorErrorCode / info. */
  vendorCode?: string;
}

export interface FaultEvents {
  fault: [HalFault];
  'fault-cleared': [HalFaultKind];
}

/**
 * What a part can say about faults it raised before anyone listened (a port missing at start, an
 * emergency stop already pressed): drivers raise faults while they are being created, so the
 * station reads these right after it subscribes and treats each as if its event came then.
 */
export interface FaultSource {
  readonly activeFaults?: readonly HalFault[];
}

export type RelayEvents = FaultEvents & {
  /** Feedback (mirror contact) changed; only emitted by relays that have feedback. */
  feedback: [closed: boolean];
};

/** The contactor (or any relay). */
export interface Relay extends TypedEmitter<RelayEvents>, FaultSource {
  /** Command the relay. Resolves once the command is issued (not when feedback confirms). */
  set(closed: boolean): Promise<void>;
  /** What was last commanded. */
  readonly commanded: boolean;
  /** What the feedback input says, or undefined when the relay has no feedback. */
  readonly feedback: boolean | undefined;
}

export type LockEvents = FaultEvents & { locked: [locked: boolean] };

export interface ConnectorLock extends TypedEmitter<LockEvents>, FaultSource {
  /** Resolves true when the sense input confirms, false on timeout (a 'lock-failure' fault is emitted too). */
  lock(): Promise<boolean>;
  unlock(): Promise<boolean>;
  readonly locked: boolean;
}

export type PilotEvents = FaultEvents & {
  state: [state: PilotState];
  /** Proximity-pilot cable rating in amperes, or null when no cable / not measured. */
  pp: [amps: number | null];
};

export interface PilotController extends TypedEmitter<PilotEvents>, FaultSource {
  readonly state: PilotState;
  readonly ppAmps: number | null;
  /**
   * The current the EV may draw, advertised by PWM duty cycle. 0 means no PWM
   * (steady +12 V / 100 %): the EV must not draw.
   */
  setMaxCurrent(amps: number): Promise<void>;
  readonly maxCurrent: number;
}

export type IdTokenKind = 'ISO14443' | 'ISO15693' | 'KeyCode' | 'Local';

export interface TokenRead {
  /** Normalised: upper-case hex without separators for RFID UIDs. */
  id: string;
  kind: IdTokenKind;
}

export type IdReaderEvents = FaultEvents & { token: [TokenRead] };

export type IdReader = TypedEmitter<IdReaderEvents> & FaultSource;

export type Phase = 'L1' | 'L2' | 'L3';

export interface MeterReading {
  /** Epoch ms of the reading. */
  at: number;
  energyImportWh: number;
  energyExportWh?: number;
  powerW: number;
  currentA: Partial<Record<Phase, number>>;
  voltageV: Partial<Record<Phase, number>>;
  frequencyHz?: number;
  /** Only the simulated EV knows its state of charge; real meters leave it out. */
  socPercent?: number;
}

export interface EnergyMeter extends TypedEmitter<FaultEvents>, FaultSource {
  /** Rejects when the meter does not answer (the driver also raises 'meter-silent' after N failures). */
  read(): Promise<MeterReading>;
}

export type DisplayEvents = FaultEvents;

export interface Display extends TypedEmitter<DisplayEvents>, FaultSource {
  /** Character cells per row and rows, for those who compose the screen (absent: 20 × 4). */
  readonly cols?: number;
  readonly rows?: number;
  /** Logical lines (Unicode); the driver fits, wraps, pages and maps them to what it can show. */
  show(lines: string[]): Promise<void>;
}

export type InputEvents = FaultEvents & { change: [active: boolean] };

/** A debounced digital input such as an emergency-stop button. */
export interface DigitalInput extends TypedEmitter<InputEvents>, FaultSource {
  readonly active: boolean;
}

/**
 * A phase-switch relay: a 3-phase EVSE that can supply one phase only (and choose which). The station
 * switches only while the contactor is open; the EV then draws on the phases supplied.
 */
export interface PhaseSwitch {
  /** Phases supplied now. */
  readonly phases: 1 | 3;
  /** The line supplied when on one phase (1 = L1). */
  readonly phase: 1 | 2 | 3;
  setPhases(phases: 1 | 3, phase?: 1 | 2 | 3): Promise<void>;
}

/** The parts of one EVSE (one connector per EVSE on this station). */
export interface EvseHal {
  /** 1-based EVSE id. */
  id: number;
  pilot: PilotController;
  contactor: Relay;
  lock?: ConnectorLock;
  meter: EnergyMeter;
  /** Hardware limit of this EVSE (cable, breaker) in amperes per phase. */
  maxCurrentA: number;
  /** Phases wired to the EVSE. */
  phases: 1 | 3;
  connectorType: string;
  /** Present when the board can switch this EVSE between 3 phases and 1. */
  phaseSwitch?: PhaseSwitch;
}

/** Controls of the simulated board, used by the control socket, scenarios and tests. */
export interface SimControl {
  plug(evseId: number): void;
  unplug(evseId: number): void;
  tap(idToken: string): void;
  /** EV asks for energy (B → C). */
  evReady(evseId: number): void;
  /** EV stops asking for energy (C → B). */
  evPause(evseId: number): void;
  fault(evseId: number, kind: SimFaultKind): void;
  clearFault(evseId: number, kind?: SimFaultKind): void;
  status(): SimStatus;
  /** The building's other load in amperes per phase, as the simulated site meter reports it. */
  setBuildingLoad(ampsPerPhase: number): void;
  /** The simulated site meter stops answering (true) or answers again. */
  siteMeterSilent(silent: boolean): void;
}

export type SimFaultKind = 'welded' | 'lock' | 'meter-silent' | 'pilot-e' | 'pilot-f' | 'rcd' | 'reader';

export interface SimEvseStatus {
  id: number;
  plugged: boolean;
  pilot: PilotState;
  pwmAmps: number;
  /** Phases supplied to the EV (the wiring, or what the phase switch selected). */
  phases: number;
  contactorClosed: boolean;
  locked: boolean;
  powerW: number;
  energyWh: number;
  socPercent: number;
  faults: SimFaultKind[];
}

export interface SimStatus {
  evses: SimEvseStatus[];
  /** What the simulated display shows now, one string per row. */
  display?: string[];
  /** The building's other load, amperes per phase, and whether the site meter answers. */
  building?: { loadA: number; meterSilent: boolean };
}

export interface Hal {
  readonly board: string;
  /** Nominal phase voltage of the installation (board profile nominalVoltageV, default 230): W <-> A. */
  readonly nominalVoltageV?: number;
  readonly evses: EvseHal[];
  readonly reader?: IdReader;
  readonly display?: Display;
  readonly emergencyStop?: DigitalInput;
  /**
   * The meter of the building's other load (everything behind the grid connection except this station),
   * for the site limit; built from config site.otherLoadMeter with the meter drivers.
   */
  readonly siteMeter?: EnergyMeter;
  /** Present only on the simulated board. */
  readonly sim?: SimControl;
  /** Drive every output to its safe state (contactors open, PWM off) and release the hardware. */
  close(): Promise<void>;
}

export interface HalDeps {
  clock: Clock;
  log: Logger;
}
