/**
 * One ocpp-rpc RPCClient for one connection attempt of the link (./rpc-link.ts), and everything that
 * comes in on it: the inbound guard (size and depth limits in front of ocpp-rpc's parser), the frame
 * log and frame listeners, late or unknown answers, schema failures, socket errors, and the wrapper
 * that runs our handlers of CSMS calls inside a call scope. Every listener on the client is isolated:
 * nothing it throws reaches ocpp-rpc or ws.
 */
import { createRequire } from 'node:module';
import { RPCClient, createRPCError } from 'ocpp-rpc';
import type { Logger } from '../../base/logger.js';
import type { CallHandler, OcppProtocol } from './link.js';
import type { CallScope } from './call-scope.js';
import { ocppValidators, smallDetails } from './callerror.js';
import type { ConnectionTarget } from './connection-url.js';
import { WS_BUFFER_FACTOR } from './frame-guard.js';
import { guardInbound, type GuardedClient } from './inbound-guard.js';
import type { MessageLog } from './message-log.js';
import type { TransportOptions } from './security.js';

export type RpcCall = { params: unknown; messageId: string; method: string };

/** ocpp-rpc's client, typed as far as it is used here. */
export interface Client extends GuardedClient {
  readonly protocol: string | undefined;
  connect(): Promise<unknown>;
  close(opts?: { code?: number; reason?: string; force?: boolean }): Promise<unknown>;
  call(method: string, params: unknown, options?: { signal?: AbortSignal }): Promise<unknown>;
  handle(method: string, fn: (call: RpcCall) => Promise<unknown>): void;
  /** The wildcard handler: actions without their own handler. */
  handle(fn: (call: RpcCall) => Promise<unknown>): void;
  removeAllHandlers(): void;
  reconfigure(options: { callTimeoutMs: number; pingIntervalMs: number }): void;
  on(event: string, fn: (arg: never) => void): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ocpp-rpc spreads its error classes into module.exports, which ESM cannot see as named exports.
const { TimeoutError } = createRequire(import.meta.url)('ocpp-rpc') as { TimeoutError: new () => Error };

/** Message ids of our timed-out calls remembered, to recognise a late answer (a debug line, not a warning). */
const ABANDONED_IDS_KEPT = 64;

/**
 * Actions of the negotiated version that no adapter handles: NotSupported ("recognized but not
 * supported", TC_K_15). An action the version does not define never gets here: the schema check
 * (./callerror.ts) answers it NotImplemented.
 */
export async function notSupported({ method }: RpcCall): Promise<never> {
  throw createRPCError('NotSupported', `${method} is not supported by this station`, {});
}

/** Run a listener of the client so that nothing it throws reaches ocpp-rpc or ws. */
export function isolated<A>(log: Logger, what: string, fn: (arg: A) => void): (arg: A) => void {
  return (arg: A) => {
    try {
      fn(arg);
    } catch (err) {
      log.error(`OCPP link: handling '${what}' failed`, { error: errorText(err) });
    }
  };
}

/** One of our handlers of a CSMS call, as ocpp-rpc calls it: inside a call scope (./call-scope.ts). */
export function wrapHandler(scope: CallScope, handler: CallHandler) {
  return async ({ params, messageId, method }: RpcCall) => {
    const entry = scope.enter(messageId, method);
    try {
      return await handler(params, { action: method, messageId });
    } catch (err) {
      // ocpp-rpc serialises the details into the CALLERROR; details it cannot serialise would close
      // the connection ("Unable to send call result"), so they are kept small and plain.
      if (err !== null && typeof err === 'object' && 'details' in err) (err as { details: unknown }).details = smallDetails(err.details);
      throw err;
    } finally {
      scope.answered(entry);
    }
  };
}

export interface ClientSettings {
  identity: string;
  target: ConnectionTarget;
  transport: TransportOptions;
  protocols: OcppProtocol[];
  pingIntervalS: number;
  maxFrameBytes: number;
}

export interface InboundHooks {
  log: Logger;
  messageLog: MessageLog | undefined;
  frameListeners: ReadonlySet<(dir: 'in' | 'out', text: string) => void>;
  /** Errors of outbound CALLs that our own strict schema check refused (never sent). */
  refusedLocally: WeakSet<Error>;
  /** Ids of our calls that timed out, newest last (bounded here). */
  abandonedIds: string[];
  /** Our answer to the CSMS call `messageId` is being written on `client`. */
  written(client: Client, messageId: string): void;
}

/** A fresh client for one connection attempt, with the inbound side wired. */
export function createClient(s: ClientSettings, hooks: InboundHooks): Client {
  const t = s.transport;
  const client = new RPCClient({
    identity: s.identity,
    endpoint: s.target.endpoint,
    ...(s.target.query ? { query: s.target.query } : {}),
    // ocpp-rpc sends a Buffer password as raw bytes (its types only say string).
    password: t.password as string | null,
    // ws reads no more than this of one message (also after decompression), then closes with 1009.
    wsOpts: { ...t.wsOpts, maxPayload: s.maxFrameBytes * WS_BUFFER_FACTOR },
    headers: {},
    protocols: s.protocols,
    strictMode: true,
    // Same shape as ocpp-rpc's Validator class (subprotocol, validate); its typings want the class.
    strictModeValidators: ocppValidators() as never[],
    reconnect: false,
    maxReconnects: 0,
    callTimeoutMs: 0, // ours, on the station Clock (./call-queue.ts)
    pingIntervalMs: s.pingIntervalS * 1000,
    deferPingsOnActivity: false,
    respondWithDetailedErrors: false,
    callConcurrency: 1,
    maxBadMessages: Infinity,
    backoff: { initialDelay: 1000, maxDelay: 2000, factor: 2, randomisationFactor: 0 }, // unused: reconnect is ours
  }) as unknown as Client;
  wireInbound(client, s.maxFrameBytes, hooks);
  return client;
}

function wireInbound(client: Client, maxFrameBytes: number, hooks: InboundHooks): void {
  const { log } = hooks;
  guardInbound(client, {
    maxFrameBytes,
    log,
    onHeld: (held) =>
      hooks.messageLog?.writeHeld('in', {
        reason: held.reason,
        bytes: held.bytes,
        messageId: held.head.messageId ?? null,
        answered: held.answered ?? null,
      }),
  });
  client.on('message', isolated(log, 'message', ({ message, outbound }: { message: string; outbound: boolean }) => {
    const dir = outbound ? 'out' : 'in';
    hooks.messageLog?.write(dir, message);
    for (const l of hooks.frameListeners) {
      try {
        l(dir, message);
      } catch (err) {
        log.error('OCPP frame listener failed', { error: errorText(err) });
      }
    }
  }));
  client.on('callError', isolated(log, 'callError', ({ outbound, messageId, error }: { outbound: boolean; messageId: string; error: unknown }) => {
    // Ours time out on the station Clock (./call-queue.ts) and are aborted: AbortError, not TimeoutError.
    if (!outbound || !(error instanceof TimeoutError || (error instanceof Error && error.name === 'AbortError'))) return;
    hooks.abandonedIds.push(messageId);
    if (hooks.abandonedIds.length > ABANDONED_IDS_KEPT) hooks.abandonedIds.shift();
  }));
  client.on('badMessage', isolated(log, 'badMessage', ({ error, response }: { error: Error & { details?: { msgId?: unknown } }; response: unknown[] | null }) => {
    const id = error.details?.msgId;
    if (!response && typeof id === 'string' && /unrecognised message ID/.test(error.message)) {
      // A CALLRESULT / CALLERROR with no call waiting for it: never answered (OCPP-J).
      if (hooks.abandonedIds.includes(id)) {
        log.debug('OCPP: late answer to a call that had timed out; ignored', { messageId: id });
      } else {
        log.warn('OCPP: the CSMS answered a call we never made (unknown message id); ignored', { messageId: id });
      }
      return;
    }
    log.warn(`OCPP: malformed frame from the CSMS ${response ? 'answered with a CALLERROR' : 'ignored'}`, { error: errorText(error) });
  }));
  client.on('strictValidationFailure', isolated(log, 'strictValidationFailure', ({ method, outbound, isCall, error }: { method: string; outbound: boolean; isCall: boolean; error: Error }) => {
    // ocpp-rpc reports our own CALL refused by the schema here, then throws this same error.
    if (outbound && isCall) hooks.refusedLocally.add(error);
    log.warn('OCPP: message failed schema validation', {
      action: method,
      direction: outbound ? 'out' : 'in',
      kind: isCall ? 'call' : 'result',
      error: errorText(error),
    });
  }));
  // Emitted for our answer to a CSMS call just before ocpp-rpc writes it, in the same synchronous
  // run (client.js _onCall: emit('response') then sendRaw → ws.send): what the scope releases can
  // only run after that, so it reaches the socket after the answer.
  // ocpp-rpc also emits it for a late answer to a closed connection: that one releases nothing.
  client.on('response', isolated(log, 'response', ({ outbound, payload }: { outbound: boolean; payload: unknown[] }) => {
    if (outbound && typeof payload[1] === 'string') hooks.written(client, payload[1]);
  }));
  client.on('socketError', isolated(log, 'socketError', (err: Error & { code?: unknown }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      log.warn(`OCPP: the CSMS sent a message of more than ${maxFrameBytes * WS_BUFFER_FACTOR} bytes; the connection is closed (1009 Message Too Big) and made again`, {
        maxFrameBytes,
      });
      return;
    }
    log.debug('OCPP socket error', { error: errorText(err) });
  }));
}
