/**
 * A small in-process CSMS for tests, the demo and benches: ocpp-rpc's RPCServer in strict mode, so
 * every frame the station sends and every answer given here is validated against the official OCPP
 * JSON schemas that ocpp-rpc ships. It records every message, answers the station-initiated calls of
 * both versions with valid defaults, and lets a test override answers, make CSMS-initiated calls and
 * drop connections.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { RPCServer, createRPCError } from 'ocpp-rpc';

export interface CsmsTlsOptions {
  /** PEM server key and certificate. */
  key: string | Buffer;
  cert: string | Buffer;
  /** PEM CA that client certificates must chain to (mutual TLS). */
  ca?: string | Buffer;
  /** Ask for and require a client certificate signed by `ca` (security profile 3). */
  requestCert?: boolean;
}

export interface CsmsOptions {
  /** Offered subprotocols, preferred first. Default ['ocpp1.6', 'ocpp2.0.1']. */
  protocols?: string[];
  /** Default 0 (any free port). Give the port of an earlier CSMS to bring it "back up". */
  port?: number;
  tls?: CsmsTlsOptions;
  /** Basic-auth password every station must present (or a function of the identity); a Buffer for raw bytes. */
  password?: string | Buffer | ((identity: string) => string | Buffer | undefined);
  /** Path before the identity. Default '/ocpp'. */
  path?: string;
  /** CALL timeout of CSMS-initiated calls. Default 5000 ms. */
  callTimeoutMs?: number;
  /** DataTransfer from this vendorId is Accepted; others get UnknownVendorId. Default 'ocpp-station'. */
  vendorId?: string;
}

export type CsmsDirection = 'in' | 'out';
export type CsmsMessageType = 'call' | 'result' | 'error';

export interface CsmsLogEntry {
  identity: string;
  direction: CsmsDirection;
  type: CsmsMessageType;
  messageId: string;
  /** The CALL's action; for results and errors, the action of the CALL they answer (if known). */
  action: string | undefined;
  /** CALL params, CALLRESULT payload, or { errorCode, errorDescription, errorDetails } of a CALLERROR. */
  payload: unknown;
  /** Epoch ms. */
  at: number;
}

export type CsmsHandler = (params: unknown, identity: string) => unknown;

export interface CsmsClientInfo {
  identity: string;
  protocol: string | undefined;
  /** Subject CN of the client certificate (mutual TLS). */
  certificateCN?: string;
}

export interface Csms {
  /** ws(s)://127.0.0.1:PORT/ocpp — the station appends its identity. */
  readonly url: string;
  readonly port: number;
  /** Every message in arrival order, both directions, all stations. */
  readonly log: CsmsLogEntry[];
  /** Incoming CALL action names in order (of one station when identity is given). */
  actions(identity?: string): string[];
  /**
   * Resolves with the params of the first incoming CALL of `action` matching `predicate` that no earlier
   * waitFor returned (so successive waits return successive calls). Rejects after timeoutMs (default 5000).
   */
  waitFor<T = Record<string, unknown>>(
    action: string,
    predicate?: (params: T, entry: CsmsLogEntry) => boolean,
    timeoutMs?: number,
  ): Promise<T>;
  /** Override the answer to an action: return the response or throw (createRPCError) for a CALLERROR. */
  setHandler(action: string, fn: CsmsHandler): void;
  /** Back to the default answer. */
  clearHandler(action: string): void;
  /** A CSMS-initiated CALL to a connected station; resolves with its response. */
  call<T = unknown>(identity: string, action: string, params: unknown): Promise<T>;
  /** Send a raw text frame to a station (e.g. a malformed one). */
  sendRaw(identity: string, frame: string): void;
  clients(): CsmsClientInfo[];
  /** Close a station's connection (force: drop the TCP socket without a close frame). */
  disconnect(identity: string, opts?: { force?: boolean }): Promise<void>;
  /** Refuse (HTTP 503) or accept new connections, to simulate a CSMS outage without closing the port. */
  setAccepting(accepting: boolean): void;
  close(): Promise<void>;
}

/** The ocpp-rpc server-side client, as much of it as is used here. */
interface ServerClient {
  identity: string;
  protocol: string | undefined;
  handshake: { request: { socket: Socket } };
  on(event: string, fn: (arg: never) => void): void;
  once(event: string, fn: (arg: never) => void): void;
  handle(fn: (call: { method: string; params: unknown }) => Promise<unknown>): void;
  call(method: string, params: unknown): Promise<unknown>;
  sendRaw(message: string): void;
  close(opts?: { code?: number; reason?: string; force?: boolean }): Promise<unknown>;
}

interface Waiter {
  action: string;
  predicate: ((params: never, entry: CsmsLogEntry) => boolean) | undefined;
  resolve: (params: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export async function startCsms(opts: CsmsOptions = {}): Promise<Csms> {
  const protocols = opts.protocols ?? ['ocpp1.6', 'ocpp2.0.1'];
  const path = opts.path ?? '/ocpp';
  const log: CsmsLogEntry[] = [];
  const handlers = new Map<string, CsmsHandler>();
  const connected = new Map<string, ServerClient>();
  const certCN = new Map<string, string>();
  const waiters = new Set<Waiter>();
  /** Log indexes already handed out by waitFor. */
  const consumed = new Set<number>();
  let accepting = true;
  let transactionId = 0;

  const server = new RPCServer({
    protocols,
    strictMode: true,
    callTimeoutMs: opts.callTimeoutMs ?? 5000,
    pingIntervalMs: 0,
    callConcurrency: 1,
  });

  server.auth((accept, reject, handshake) => {
    if (!accepting) return reject(503, 'CSMS unavailable');
    if (opts.password !== undefined) {
      const expected = typeof opts.password === 'function' ? opts.password(handshake.identity) : opts.password;
      const given = handshake.password;
      if (expected === undefined || !given || !given.equals(Buffer.from(expected))) return reject(401, 'Unauthorized');
    }
    const sock = handshake.request.socket as TLSSocket;
    if (typeof sock.getPeerCertificate === 'function') {
      const cn = sock.getPeerCertificate()?.subject?.CN;
      if (typeof cn === 'string') certCN.set(handshake.identity, cn);
    }
    accept();
  });

  const offerWaiters = (index: number): void => {
    const entry = log[index]!;
    for (const w of waiters) {
      if (w.action !== entry.action || consumed.has(index)) continue;
      if (w.predicate && !w.predicate(entry.payload as never, entry)) continue;
      consumed.add(index);
      waiters.delete(w);
      clearTimeout(w.timer);
      w.resolve(entry.payload);
      return;
    }
  };

  server.on('client', (client: ServerClient) => {
    const identity = client.identity;
    // A station reconnecting replaces its old socket.
    connected.set(identity, client);
    client.once('close', () => {
      if (connected.get(identity) === client) connected.delete(identity);
    });
    const actionsById = new Map<string, string>();
    client.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
      const entry = parseFrame(identity, outbound ? 'out' : 'in', message, actionsById);
      if (!entry) return;
      log.push(entry);
      if (entry.direction === 'in' && entry.type === 'call') offerWaiters(log.length - 1);
    });
    client.handle(async ({ method, params }) => {
      const custom = handlers.get(method);
      if (custom) return custom(params, identity);
      return defaultAnswer(method, params, client.protocol, opts.vendorId ?? 'ocpp-station', () => ++transactionId);
    });
  });

  let httpServer: HttpServer | HttpsServer;
  if (opts.tls) {
    const tls = opts.tls;
    const https = createHttpsServer({
      key: tls.key,
      cert: tls.cert,
      ca: tls.ca,
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.requestCert ?? false,
    });
    https.on('upgrade', server.handleUpgrade);
    await new Promise<void>((resolve, reject) => {
      https.once('error', reject);
      https.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    httpServer = https;
  } else {
    httpServer = await server.listen(opts.port ?? 0, '127.0.0.1');
  }
  const address = httpServer.address();
  if (!address || typeof address === 'string') throw new Error('CSMS did not get a TCP port');
  const port = address.port;
  const url = `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${port}${path}`;

  const requireClient = (identity: string): ServerClient => {
    const c = connected.get(identity);
    if (!c) throw new Error(`station ${identity} is not connected`);
    return c;
  };

  let closed = false;
  const actions = (identity?: string): string[] =>
    log
      .filter((e) => e.direction === 'in' && e.type === 'call' && (identity === undefined || e.identity === identity))
      .map((e) => e.action ?? '');
  return {
    url,
    port,
    log,
    actions,
    waitFor<T>(action: string, predicate?: (params: T, entry: CsmsLogEntry) => boolean, timeoutMs = 5000) {
      return new Promise<T>((resolve, reject) => {
        for (let i = 0; i < log.length; i++) {
          const e = log[i]!;
          if (e.direction !== 'in' || e.type !== 'call' || e.action !== action || consumed.has(i)) continue;
          if (predicate && !predicate(e.payload as T, e)) continue;
          consumed.add(i);
          resolve(e.payload as T);
          return;
        }
        const w: Waiter = {
          action,
          predicate: predicate as Waiter['predicate'],
          resolve: resolve as (p: unknown) => void,
          reject,
          timer: setTimeout(() => {
            waiters.delete(w);
            reject(new Error(`CSMS: no ${action} within ${timeoutMs} ms (got: ${actions().join(', ')})`));
          }, timeoutMs),
        };
        waiters.add(w);
      });
    },
    setHandler(action, fn) {
      handlers.set(action, fn);
    },
    clearHandler(action) {
      handlers.delete(action);
    },
    async call<T>(identity: string, action: string, params: unknown) {
      return (await requireClient(identity).call(action, params)) as T;
    },
    sendRaw(identity, frame) {
      requireClient(identity).sendRaw(frame);
    },
    clients() {
      return [...connected.values()].map((c) => {
        const info: CsmsClientInfo = { identity: c.identity, protocol: c.protocol };
        const cn = certCN.get(c.identity);
        if (cn !== undefined) info.certificateCN = cn;
        return info;
      });
    },
    async disconnect(identity, o = {}) {
      const c = connected.get(identity);
      if (!c) return;
      connected.delete(identity);
      await c.close(o.force ? { force: true } : { code: 1000, reason: 'CSMS disconnect' });
    },
    setAccepting(value) {
      accepting = value;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`CSMS closed while waiting for ${w.action}`));
      }
      waiters.clear();
      await Promise.all([...connected.values()].map((c) => c.close({ force: true })));
      connected.clear();
      await server.close({ force: true });
      // RPCServer.close only stops servers it created itself.
      if (opts.tls) {
        (httpServer as HttpsServer).closeAllConnections();
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
    },
  };
}

function parseFrame(
  identity: string,
  direction: CsmsDirection,
  text: string,
  actionsById: Map<string, string>,
): CsmsLogEntry | undefined {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(frame) || typeof frame[1] !== 'string') return undefined;
  const at = Date.now();
  const messageId = frame[1];
  switch (frame[0]) {
    case 2: {
      const action = typeof frame[2] === 'string' ? frame[2] : undefined;
      if (action) actionsById.set(messageId, action);
      return { identity, direction, type: 'call', messageId, action, payload: frame[3], at };
    }
    case 3: {
      const action = actionsById.get(messageId);
      actionsById.delete(messageId);
      return { identity, direction, type: 'result', messageId, action, payload: frame[2], at };
    }
    case 4: {
      const action = actionsById.get(messageId);
      actionsById.delete(messageId);
      const payload = { errorCode: frame[2], errorDescription: frame[3], errorDetails: frame[4] };
      return { identity, direction, type: 'error', messageId, action, payload, at };
    }
    default:
      return undefined;
  }
}

function isoNow(): string {
  return new Date().toISOString();
}

/** Answers valid for the schemas of the protocol the station speaks (exported for its test). */
export function defaultAnswer(
  action: string,
  params: unknown,
  protocol: string | undefined,
  vendorId: string,
  nextTransactionId: () => number,
): unknown {
  const v16 = protocol === 'ocpp1.6';
  const p = (params ?? {}) as Record<string, unknown>;
  switch (action) {
    case 'BootNotification':
      return { status: 'Accepted', currentTime: isoNow(), interval: 300 };
    case 'Heartbeat':
      return { currentTime: isoNow() };
    case 'Authorize':
      return v16 ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
    case 'StartTransaction':
      return { transactionId: nextTransactionId(), idTagInfo: { status: 'Accepted' } };
    case 'StopTransaction':
      return p.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : {};
    case 'TransactionEvent':
      return p.idToken !== undefined ? { idTokenInfo: { status: 'Accepted' } } : {};
    case 'DataTransfer':
      return { status: p.vendorId === vendorId ? 'Accepted' : 'UnknownVendorId' };
    case 'SignCertificate':
    case 'NotifyEVChargingNeeds':
    case 'NotifyEVChargingSchedule':
      return { status: 'Accepted' };
    case 'GetCertificateStatus':
      return { status: 'Failed' };
    case 'Get15118EVCertificate':
      return { status: 'Failed', exiResponse: '' };
    case 'StatusNotification':
    case 'MeterValues':
    case 'NotifyReport':
    case 'NotifyEvent':
    case 'NotifyMonitoringReport':
    case 'NotifyCustomerInformation':
    case 'NotifyDisplayMessages':
    case 'NotifyChargingLimit':
    case 'ClearedChargingLimit':
    case 'ReportChargingProfiles':
    case 'ReservationStatusUpdate':
    case 'SecurityEventNotification':
    case 'LogStatusNotification':
    case 'FirmwareStatusNotification':
    case 'PublishFirmwareStatusNotification':
    case 'DiagnosticsStatusNotification':
    case 'SignedFirmwareStatusNotification':
      return {};
    default:
      throw createRPCError('NotImplemented', `The test CSMS has no answer for ${action}`);
  }
}
