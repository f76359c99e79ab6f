/**
 * The control socket's protocol: one JSON object per line each way.
 *
 *   → { "cmd": "plug", "evse": 1 }                       ← { "ok": true, "status": { … } }
 *   → { "cmd": "tap", "idToken": "04A2B3C4" }            ← { "ok": false, "error": "…" }
 *   → { "cmd": "fault", "evse": 1, "kind": "welded" }
 *   → { "cmd": "clear-fault", "evse": 1 }                (no kind: every fault of that EVSE)
 *   → { "cmd": "status" }
 *
 *   → { "cmd": "building-load", "amps": 20 }            the simulated building's other load, A per phase
 *   → { "cmd": "site-meter", "state": "silent" }         the simulated site meter stops answering ("ok": again)
 *   → { "cmd": "external-limit", "amps": 16, "source": "SO", "evse": 0, "gridCritical": true }
 *   → { "cmd": "clear-external-limit" }                  release it (2.0.1 K13)
 *
 * Commands: plug, unplug, tap, ev-ready, ev-pause, fault, clear-fault, building-load, site-meter,
 * external-limit, clear-external-limit, status. external-limit / clear-external-limit stand for an
 * external control system (a DSO or energy manager) and work on every board; the others need the
 * simulated one. An optional "id" (string or number) is echoed in the answer. Every command answers
 * with the status after it ran.
 */
import type { SimControl, SimEvseStatus, SimFaultKind } from '../../hal/types.js';
import { SIM_FAULT_KINDS, isSimFaultKind } from '../../hal/sim/faults.js';

export const CONTROL_COMMANDS = [
  'plug',
  'unplug',
  'tap',
  'ev-ready',
  'ev-pause',
  'fault',
  'clear-fault',
  'building-load',
  'site-meter',
  'external-limit',
  'clear-external-limit',
  'status',
] as const;
/** Commands that reach the station rather than the simulated board. */
export const STATION_COMMANDS: readonly ControlCommand[] = ['external-limit', 'clear-external-limit', 'status'];
export const EXTERNAL_SOURCES = ['EMS', 'SO', 'Other'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

export interface ControlRequest {
  id?: string | number;
  cmd: ControlCommand;
  evse?: number;
  idToken?: string;
  kind?: SimFaultKind;
  /** building-load, external-limit: amperes per phase. */
  amps?: number;
  /** site-meter */
  state?: 'ok' | 'silent';
  /** external-limit */
  source?: (typeof EXTERNAL_SOURCES)[number];
  gridCritical?: boolean;
}

/** The site limit as the station shares it (src/station/site-limit.ts SiteStatus). */
export interface SiteSummary {
  gridLimitA?: number;
  otherLoadA?: number;
  meter: string;
  availableA?: number;
  caps: Record<string, number>;
  paused: number[];
}

/** A connector as the station reports it (src/station's ConnectorState has this shape and more). */
export interface ConnectorSummary {
  evseId: number;
  connectorId?: number;
  status: string;
  errorCode?: string;
  info?: string;
}

export interface ControlStatus {
  board: string;
  simulated: boolean;
  /** The simulated board's physics, when the board is simulated. */
  evses?: SimEvseStatus[];
  /** The station's view, when the daemon wired stationStatus. */
  connectors?: ConnectorSummary[];
  /** What the simulated display shows now, one string per row. */
  display?: string[];
  /** The simulated building behind the grid connection. */
  building?: { loadA: number; meterSilent: boolean };
  /** The station's site limit and shares, when the daemon wired it. */
  site?: SiteSummary;
}

export type ControlResponse =
  | { id?: string | number; ok: true; status: ControlStatus }
  | { id?: string | number; ok: false; error: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a decoded request; throws an Error whose message is fit to send back. */
export function parseRequest(raw: unknown): ControlRequest {
  if (!isPlainObject(raw)) throw new Error('a request is a JSON object such as {"cmd":"status"}');
  const { cmd, evse, idToken, kind, id, amps, state, source, gridCritical } = raw;
  if (typeof cmd !== 'string' || !(CONTROL_COMMANDS as readonly string[]).includes(cmd)) {
    throw new Error(`unknown command ${JSON.stringify(cmd ?? null)} (commands: ${CONTROL_COMMANDS.join(', ')})`);
  }
  const req: ControlRequest = { cmd: cmd as ControlCommand };
  if (typeof id === 'string' || typeof id === 'number') req.id = id;
  const needsEvse = !['status', 'tap', 'building-load', 'site-meter', 'external-limit', 'clear-external-limit'].includes(cmd);
  if (cmd === 'external-limit' && evse !== undefined) {
    if (typeof evse !== 'number' || !Number.isInteger(evse) || evse < 0) throw new Error(`"evse" must be 0 (all EVSEs) or an EVSE id, got ${JSON.stringify(evse)}`);
    req.evse = evse;
  } else if (evse !== undefined || needsEvse) {
    if (evse === undefined) throw new Error(`${cmd} needs "evse" (an EVSE id such as 1)`);
    if (typeof evse !== 'number' || !Number.isInteger(evse) || evse < 1) {
      throw new Error(`"evse" must be an EVSE id (integer ≥ 1), got ${JSON.stringify(evse)}`);
    }
    req.evse = evse;
  }
  if (cmd === 'tap') {
    if (typeof idToken !== 'string' || idToken.trim() === '') throw new Error('tap needs "idToken" (a non-empty string)');
    if (idToken.length > 255) throw new Error('"idToken" is longer than 255 characters');
    req.idToken = idToken;
  }
  if (cmd === 'fault' || (cmd === 'clear-fault' && kind !== undefined)) {
    if (!isSimFaultKind(kind)) {
      throw new Error(
        `${kind === undefined ? `${cmd} needs "kind"` : `unknown fault kind ${JSON.stringify(kind)}`} (kinds: ${SIM_FAULT_KINDS.join(', ')})`,
      );
    }
    req.kind = kind;
  }
  if (cmd === 'building-load' || cmd === 'external-limit') {
    if (typeof amps !== 'number' || !Number.isFinite(amps) || amps < 0) throw new Error(`${cmd} needs "amps" (a number ≥ 0, amperes per phase), got ${JSON.stringify(amps ?? null)}`);
    req.amps = amps;
  }
  if (cmd === 'site-meter') {
    if (state !== 'ok' && state !== 'silent') throw new Error(`site-meter needs "state": "ok" or "silent", got ${JSON.stringify(state ?? null)}`);
    req.state = state;
  }
  if (cmd === 'external-limit') {
    const src = source ?? 'Other';
    if (typeof src !== 'string' || !(EXTERNAL_SOURCES as readonly string[]).includes(src)) {
      throw new Error(`"source" must be one of ${EXTERNAL_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
    }
    req.source = src as (typeof EXTERNAL_SOURCES)[number];
    if (gridCritical !== undefined && typeof gridCritical !== 'boolean') throw new Error('"gridCritical" must be true or false');
    if (gridCritical !== undefined) req.gridCritical = gridCritical;
  }
  return req;
}

/** Applies a (parsed) command to the simulated board. `status` does nothing here. */
export function applyToSim(sim: SimControl, req: ControlRequest): void {
  const evse = req.evse ?? 0;
  switch (req.cmd) {
    case 'plug':
      return sim.plug(evse);
    case 'unplug':
      return sim.unplug(evse);
    case 'tap':
      return sim.tap(req.idToken ?? '');
    case 'ev-ready':
      return sim.evReady(evse);
    case 'ev-pause':
      return sim.evPause(evse);
    case 'fault':
      if (!req.kind) throw new Error('fault needs a kind');
      return sim.fault(evse, req.kind);
    case 'clear-fault':
      return sim.clearFault(evse, req.kind);
    case 'building-load':
      return sim.setBuildingLoad(req.amps ?? 0);
    case 'site-meter':
      return sim.siteMeterSilent(req.state === 'silent');
    case 'external-limit':
    case 'clear-external-limit':
    case 'status':
      return;
  }
}

/** Tells the daemon its outbox changed on disk (sent by `ocpp-station outbox replay`; see server.ts). */
export const OUTBOX_KICK = 'outbox-kick';

/** The socket's file name inside the state directory. */
export const CONTROL_SOCKET_NAME = 'control.sock';
