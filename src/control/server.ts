/**
 * The control socket: a Unix domain socket in the state directory (never a TCP port: whoever can
 * open it can plug virtual EVs and inject faults, so the file mode 0600 is the access control).
 * Newline-delimited JSON, see protocol.ts. A bad request gets an error answer, never a crash.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Hal } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../store/private-files.js';
import { applyToSim, OUTBOX_KICK, parseRequest, STATION_COMMANDS, type ConnectorSummary, type ControlRequest, type ControlResponse, type ControlStatus, type SiteSummary } from './protocol.js';

export interface ControlServerOptions {
  socketPath: string;
  hal: Hal;
  log: Logger;
  /** The station's connector statuses, added to every status answer (wired by src/main.ts). */
  stationStatus?: () => ConnectorSummary[] | Promise<ConnectorSummary[]>;
  /** The station's site limit and external limits (wired by src/wiring.ts). */
  site?: {
    status(): SiteSummary;
    /** external-limit / clear-external-limit; throws a message fit to send back. */
    external(req: ControlRequest): void;
  };
  /**
   * `{"cmd":"outbox-kick"}`: `ocpp-station outbox replay` changed the queue from another process;
   * look at it now. Not a sim command: it works on every board.
   */
  outboxKick?: () => void;
}

export interface ControlServer {
  close(): Promise<void>;
}

/** Longest request line accepted; a request is a few dozen bytes. */
const MAX_LINE_BYTES = 64 * 1024;

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { socketPath, hal, log } = opts;
  ensurePrivateDir(dirname(socketPath));
  await removeStaleSocket(socketPath);

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => log.debug('control connection error', { error: err.message }));
    serve(socket, opts);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('control socket error', { error: err.message }));
  // In a private (0700) directory, so the moment before this chmod exposes nothing.
  await chmod(socketPath, PRIVATE_FILE_MODE);
  log.info('control socket listening', { socketPath, board: hal.board });

  let closing: Promise<void> | undefined;
  return {
    close(): Promise<void> {
      closing ??= (async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await unlink(socketPath).catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** Answers each line in order; a line too long or a peer that vanishes ends only that connection. */
function serve(socket: Socket, opts: ControlServerOptions): void {
  let buffered = '';
  let queue = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    if (socket.writableEnded) return;
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      queue = queue.then(async () => {
        const answer = await handleLine(line, opts);
        if (!socket.destroyed) socket.write(JSON.stringify(answer) + '\n');
      });
    }
    if (Buffer.byteLength(buffered) > MAX_LINE_BYTES) {
      buffered = '';
      void queue.then(() => socket.end(JSON.stringify({ ok: false, error: `request longer than ${MAX_LINE_BYTES} bytes` }) + '\n'));
    }
  });
}

export async function handleLine(line: string, opts: ControlServerOptions): Promise<ControlResponse> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not JSON: send one JSON object per line, e.g. {"cmd":"status"}' };
  }
  const id = typeof decoded === 'object' && decoded !== null ? (decoded as { id?: unknown }).id : undefined;
  const withId = (r: ControlResponse): ControlResponse => (typeof id === 'string' || typeof id === 'number' ? { id, ...r } : r);
  try {
    if ((decoded as { cmd?: unknown } | null)?.cmd === OUTBOX_KICK) {
      if (!opts.outboxKick) throw new Error('this daemon has no OCPP outbox');
      opts.outboxKick();
      return withId({ ok: true, status: await statusOf(opts) });
    }
    const req = parseRequest(decoded);
    const { hal, log } = opts;
    if (req.cmd === 'external-limit' || req.cmd === 'clear-external-limit') {
      if (!opts.site) throw new Error('this daemon does not take external limits here');
      log.info('control command', { cmd: req.cmd, evse: req.evse, amps: req.amps, source: req.source });
      opts.site.external(req);
    } else if (!STATION_COMMANDS.includes(req.cmd)) {
      if (!hal.sim) throw new Error(`board "${hal.board}" is not simulated: only "status", "external-limit" and "clear-external-limit" work here`);
      log.info('control command', { cmd: req.cmd, evse: req.evse, kind: req.kind, amps: req.amps, state: req.state });
      applyToSim(hal.sim, req);
    }
    return withId({ ok: true, status: await statusOf(opts) });
  } catch (err) {
    return withId({ ok: false, error: (err as Error).message });
  }
}

async function statusOf(opts: ControlServerOptions): Promise<ControlStatus> {
  const { hal } = opts;
  const status: ControlStatus = { board: hal.board, simulated: hal.sim !== undefined };
  if (hal.sim) {
    const sim = hal.sim.status();
    status.evses = sim.evses;
    if (sim.display) status.display = sim.display;
    if (sim.building) status.building = sim.building;
  }
  if (opts.site) status.site = opts.site.status();
  if (opts.stationStatus) {
    try {
      status.connectors = await opts.stationStatus();
    } catch (err) {
      opts.log.warn('station status unavailable for the control socket', { error: (err as Error).message });
    }
  }
  return status;
}

/**
 * A socket file left by a daemon that died is removed; a live one means another daemon runs here,
 * and anything that is not a socket is not ours to delete.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket: refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is listening on ${path} (is the daemon already running?)`);
  await unlink(path);
}
