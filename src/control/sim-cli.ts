/**
 * `ocpp-station sim <command> [args] [--evse N] [--state-dir DIR]`: drives the simulated board of
 * a running daemon through its control socket and prints the answer.
 */
import { join } from 'node:path';
import { sendControlRequest, DaemonUnreachableError } from './client.js';
import { CONTROL_COMMANDS, CONTROL_SOCKET_NAME, type ControlStatus } from './protocol.js';
import { SIM_FAULT_KINDS } from '../../hal/sim/faults.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

export const SIM_USAGE = `usage: ocpp-station sim <command> [args] [--evse N] [--state-dir DIR] [--socket PATH] [--json]

commands:
  plug                 plug the virtual EV into the EVSE (it asks for energy once PWM is offered)
  unplug               unplug it
  tap <idToken>        present a card to the reader
  ev-ready             the EV asks for energy again (B → C)
  ev-pause             the EV stops asking for energy (C → B)
  fault <kind>         inject a fault: ${SIM_FAULT_KINDS.join(', ')}
  clear-fault [kind]   clear one fault, or every fault of the EVSE
  building-load <A>    the simulated building's other load, amperes per phase (read by a "sim" site meter)
  site-meter ok|silent the simulated site meter answers, or stops answering
  external-limit <A> [--source EMS|SO|Other] [--grid-critical] [--evse N]
                       an external control system limits the EVSEs (all together unless --evse; any board)
  clear-external-limit the external control system releases its limit
  status               show the board (and the station's connectors)

options:
  --evse N             EVSE id (default 1)
  --state-dir DIR      the daemon's state directory (default $OCPP_STATION_STATE_DIR or ./state)
  --socket PATH        the control socket itself (default STATE_DIR/${CONTROL_SOCKET_NAME})
  --json               print the daemon's answer as JSON
`;

interface Parsed {
  command: string;
  args: string[];
  evse?: number;
  stateDir?: string;
  socket?: string;
  json: boolean;
  help: boolean;
  source?: string;
  gridCritical: boolean;
}

function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { command: '', args: [], json: false, help: false, gridCritical: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--evse') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--evse must be an EVSE id (integer ≥ 1; 0 = all for external-limit), got "${v}"`);
      p.evse = n;
    } else if (flag === '--source') p.source = value();
    else if (flag === '--grid-critical') p.gridCritical = true; else if (flag === '--state-dir') p.stateDir = value();
    else if (flag === '--socket') p.socket = value();
    else if (flag === '--json') p.json = true;
    else if (flag === '--help' || flag === '-h' || flag === 'help') p.help = true;
    else if (flag.startsWith('-')) throw new Error(`unknown option ${flag}`);
    else if (p.command === '') p.command = a;
    else p.args.push(a);
  }
  return p;
}

function buildRequest(p: Parsed): Record<string, unknown> {
  if (!(CONTROL_COMMANDS as readonly string[]).includes(p.command)) {
    throw new Error(`unknown command "${p.command}" (commands: ${CONTROL_COMMANDS.join(', ')})`);
  }
  const oneArg = ['tap', 'fault', 'clear-fault', 'building-load', 'site-meter', 'external-limit'];
  const maxArgs = oneArg.includes(p.command) ? 1 : 0;
  if (p.args.length > maxArgs) throw new Error(`${p.command}: unexpected argument "${p.args[maxArgs]}"`);
  const req: Record<string, unknown> = { cmd: p.command };
  const noEvse = ['status', 'tap', 'building-load', 'site-meter', 'clear-external-limit'];
  if (p.command === 'external-limit') {
    if (p.evse !== undefined) req.evse = p.evse;
  } else if (!noEvse.includes(p.command)) {
    if (p.evse === 0) throw new Error('--evse must be an EVSE id (integer ≥ 1)');
    req.evse = p.evse ?? 1;
  }
  if (p.command === 'building-load' || p.command === 'external-limit') {
    const a = Number(p.args[0]);
    if (p.args.length === 0 || !Number.isFinite(a) || a < 0) throw new Error(`${p.command} needs amperes per phase (a number ≥ 0): ocpp-station sim ${p.command} 20`);
    req.amps = a;
  }
  if (p.command === 'site-meter') {
    if (p.args[0] !== 'ok' && p.args[0] !== 'silent') throw new Error('site-meter needs ok or silent');
    req.state = p.args[0];
  }
  if (p.command === 'external-limit') {
    if (p.source !== undefined) req.source = p.source;
    if (p.gridCritical) req.gridCritical = true;
  }
  if (p.command === 'tap') {
    if (p.args.length === 0) throw new Error('tap needs an id token: ocpp-station sim tap 04A2B3C4');
    req.idToken = p.args[0];
  }
  if (p.command === 'fault' && p.args.length === 0) throw new Error(`fault needs a kind (${SIM_FAULT_KINDS.join(', ')})`);
  if ((p.command === 'fault' || p.command === 'clear-fault') && p.args.length > 0) req.kind = p.args[0];
  return req;
}

/** argv: the arguments after `sim`. Returns the exit code: 0 done, 1 refused or unreachable, 2 usage. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let parsed: Parsed;
  let request: Record<string, unknown>;
  try {
    parsed = parseArgs(argv);
    if (parsed.help || parsed.command === '') {
      (parsed.help ? io.out : io.err)(SIM_USAGE);
      return parsed.help ? 0 : 2;
    }
    request = buildRequest(parsed);
  } catch (err) {
    io.err(`ocpp-station sim: ${(err as Error).message}\n${SIM_USAGE}`);
    return 2;
  }
  const stateDir = parsed.stateDir ?? process.env.OCPP_STATION_STATE_DIR ?? './state';
  const socketPath = parsed.socket ?? join(stateDir, CONTROL_SOCKET_NAME);
  try {
    const answer = await sendControlRequest(socketPath, request);
    if (parsed.json) {
      (answer.ok ? io.out : io.err)(JSON.stringify(answer, null, 2) + '\n');
      return answer.ok ? 0 : 1;
    }
    if (!answer.ok) {
      io.err(`ocpp-station sim ${parsed.command}: ${answer.error}\n`);
      return 1;
    }
    if (parsed.command !== 'status') io.out(`${parsed.command}: done\n`);
    io.out(formatStatus(answer.status));
    return 0;
  } catch (err) {
    const hint =
      err instanceof DaemonUnreachableError
        ? '\n  start it with `ocpp-station run`, or point at its state directory with --state-dir DIR' +
          ' (an installed station uses /var/lib/ocpp-station)'
        : '';
    io.err(`ocpp-station sim: ${(err as Error).message}${hint}\n`);
    return 1;
  }
}

/** The status as a small table. */
export function formatStatus(s: ControlStatus): string {
  const lines = [`board ${s.board}${s.simulated ? ' (simulated)' : ''}`];
  if (s.evses && s.evses.length > 0) {
    const head = ['EVSE', 'EV', 'pilot', 'PWM A', 'contactor', 'lock', 'kW', 'kWh', 'SoC %', 'faults'];
    const rows = s.evses.map((e) => [
      String(e.id),
      e.plugged ? 'plugged' : '-',
      e.pilot,
      String(e.pwmAmps),
      e.contactorClosed ? 'closed' : 'open',
      e.locked ? 'locked' : 'free',
      (e.powerW / 1000).toFixed(2),
      (e.energyWh / 1000).toFixed(3),
      e.plugged ? e.socPercent.toFixed(1) : '-',
      e.faults.length > 0 ? e.faults.join(',') : '-',
    ]);
    lines.push(...table([head, ...rows]));
  }
  if (s.display && s.display.length > 0) {
    const w = Math.max(...s.display.map((r) => r.length));
    lines.push('display', `+${'-'.repeat(w)}+`, ...s.display.map((r) => `|${r.padEnd(w)}|`), `+${'-'.repeat(w)}+`);
  }
  if (s.building) lines.push(`building load ${s.building.loadA} A per phase, site meter ${s.building.meterSilent ? 'silent' : 'answering'}`);
  if (s.site && (s.site.gridLimitA !== undefined || s.site.availableA !== undefined)) {
    const caps = Object.entries(s.site.caps).map(([id, a]) => `EVSE ${id} ${a} A`);
    lines.push(
      `site: grid limit ${s.site.gridLimitA ?? '-'} A, other load ${s.site.otherLoadA ?? '?'} A (meter ${s.site.meter}), EVSEs share ${s.site.availableA ?? '-'} A: ${caps.join(', ') || '-'}` +
        (s.site.paused.length > 0 ? `; paused: ${s.site.paused.join(', ')}` : ''),
    );
  }
  if (s.connectors && s.connectors.length > 0) {
    const head = ['EVSE', 'connector', 'status', 'error'];
    const rows = s.connectors.map((c) => [
      String(c.evseId),
      String(c.connectorId ?? 1),
      c.status,
      [c.errorCode && c.errorCode !== 'NoError' ? c.errorCode : '', c.info ?? ''].filter(Boolean).join(' ') || '-',
    ]);
    lines.push('', 'station', ...table([head, ...rows]));
  }
  return lines.join('\n') + '\n';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}
