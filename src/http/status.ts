/**
 * GET /api/status: one JSON document (schema: docs/status.schema.json). Times are ISO 8601 strings;
 * absent facts are null, so the shape never changes. Nothing secret is in it: no passwords, no token,
 * the CSMS URL as redacted by src/config/redact.ts, and id tokens shown only by their last 4 characters.
 */
import type { HttpState } from './state.js';
import type { HttpDeps } from './sources.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** "…C3D4": enough for an operator to recognise a card, not enough to copy it. */
export function maskToken(id: string | undefined): string | null {
  if (id === undefined) return null;
  return id.length <= 4 ? '…' : `…${id.slice(-4)}`;
}

export function buildStatus(d: HttpDeps, s: HttpState): Record<string, unknown> {
  const link = d.link.status();
  const now = d.clock.now();
  const { frames } = s;
  const evses = d.hal.evses.map((hal) => {
    const c = d.station.connector(hal.id);
    const session = d.station.session(hal.id);
    const r = s.lastReading(hal.id);
    const faults = s.activeFaults(hal.id);
    return {
      id: hal.id,
      connectorId: c.connectorId,
      status: c.status,
      errorCode: d.errorCodeOf ? d.errorCodeOf(c) : c.fault ? 'OtherError' : 'NoError',
      info: c.info ?? null,
      statusSince: iso(c.at),
      pilot: hal.pilot.state,
      cableRatingA: hal.pilot.ppAmps,
      contactor: { closed: hal.contactor.commanded, feedback: hal.contactor.feedback ?? null },
      lock: hal.lock ? { locked: hal.lock.locked } : null,
      maxCurrentA: hal.maxCurrentA,
      phases: hal.phases,
      connectorType: hal.connectorType,
      currentOfferedA: hal.pilot.maxCurrent,
      currentA: r ? { L1: r.currentA.L1 ?? null, L2: r.currentA.L2 ?? null, L3: r.currentA.L3 ?? null } : null,
      powerW: r ? r.powerW : null,
      energyWh: r ? r.energyImportWh : null,
      socPercent: r?.socPercent ?? null,
      meterReadAt: iso(r?.at),
      session: session
        ? {
            id: session.id,
            startedAt: iso(session.startedAt),
            chargingState: session.chargingState,
            idToken: maskToken(session.idToken?.idToken),
            authorized: session.authorizedAt !== undefined,
            energyWh: r && session.meterStartWh !== undefined ? Math.max(0, r.energyImportWh - session.meterStartWh) : null,
          }
        : null,
      transactionId: frames.transactionIds.get(hal.id) ?? null,
      faults: faults.map((f) => ({ kind: f.kind, severity: f.severity, detail: f.detail ?? null })),
    };
  });
  const stationFaults = s.activeFaults(0).map((f) => ({ kind: f.kind, severity: f.severity, detail: f.detail ?? null }));
  return {
    station: {
      identity: d.identity.identity,
      vendor: d.identity.vendor,
      model: d.identity.model,
      serialNumber: d.identity.serialNumber ?? null,
      firmwareVersion: d.identity.firmwareVersion,
      board: d.hal.board,
      simulated: d.hal.sim !== undefined,
      faults: stationFaults,
    },
    ocpp: {
      configuredVersion: d.ocppVersion,
      protocol: link.protocol ?? null,
      csmsUrl: d.csmsUrl,
      devCsms: d.devCsms === true,
      connected: link.connected,
      connectedSince: iso(link.connectedSince),
      lastError: link.lastError ? { at: iso(link.lastError.at), message: link.lastError.message } : null,
      nextRetryAt: iso(link.nextRetryAt),
      nextRetryInS: link.nextRetryAt === undefined ? null : Math.max(0, Math.round((link.nextRetryAt - now) / 1000)),
      connectionAttempts: link.attempts,
      connections: link.opens,
      boot: frames.boot ? { status: frames.boot.status, at: iso(frames.boot.at), intervalS: frames.boot.intervalS ?? null } : null,
    },
    outbox: {
      depth: link.outbox.depth,
      oldestAgeS: link.outbox.oldestCreatedAt === undefined ? null : Math.max(0, (now - link.outbox.oldestCreatedAt) / 1000),
      deadLetters: link.outbox.deadLetters,
    },
    jobs: {
      firmware: frames.firmware ? { status: frames.firmware.status, at: iso(frames.firmware.at) } : null,
      log: frames.log ? { status: frames.log.status, at: iso(frames.log.at) } : null,
    },
    evses,
    controls: { sim: d.hal.sim !== undefined, enabled: d.config.control },
    versions: { daemon: d.version, node: process.versions.node, ocpp: link.protocol ?? null },
    now: iso(now),
    uptimeS: Math.round((now - s.startedAt) / 1000),
  };
}
