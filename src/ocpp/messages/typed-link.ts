/**
 * The link seen through one OCPP version's message types: `call`, `enqueue`, `handle` and the queued-message
 * hooks take an action of that version and the payload its schema defines, so a misspelt action or field
 * fails the build. The transport (src/ocpp/link.ts, rpc-link.ts) stays version-agnostic; this is a view
 * of the same object, not a wrapper.
 *
 *   const link = typedLink<V201Messages>(deps.link);
 *   link.handle('Reset', (params) => ({ status: params.type === 'Immediate' ? 'Accepted' : 'Scheduled' }));
 *   const res = await link.call('Heartbeat', {});   // res: HeartbeatResponse
 */
import type { CallContext, OcppLink, OutboxMessage } from '../link.js';

/** One action's payloads. */
export interface Exchange {
  request: unknown;
  response: unknown;
}

/** A version's action map (generated: V16Messages in ./v16.ts, V201Messages in ./v201.ts). */
export type MessageMap<M> = { [A in keyof M]: Exchange };

export type ActionOf<M> = keyof M & string;
export type RequestOf<M extends MessageMap<M>, A extends ActionOf<M>> = M[A]['request'];
export type ResponseOf<M extends MessageMap<M>, A extends ActionOf<M>> = M[A]['response'];

/** A queued message of action A, its payload typed (as written by enqueue or the preparer). */
export type QueuedMessage<M extends MessageMap<M>, A extends ActionOf<M>> = Omit<OutboxMessage, 'action' | 'payload'> & {
  action: A;
  payload: RequestOf<M, A>;
};

/** Answers a CSMS-initiated call; throw an ocpp-rpc RPCError (createRPCError) for a CALLERROR. */
export type TypedHandler<M extends MessageMap<M>, A extends ActionOf<M>> = (
  params: RequestOf<M, A>,
  ctx: CallContext,
) => ResponseOf<M, A> | Promise<ResponseOf<M, A>>;

type Untyped = 'call' | 'enqueue' | 'handle' | 'onQueuedResult' | 'setQueuedPreparer';

export interface TypedLink<M extends MessageMap<M>> extends Omit<OcppLink, Untyped> {
  /** A direct CALL (not queued); see OcppLink.call. */
  call<A extends ActionOf<M>>(action: A, payload: RequestOf<M, A>): Promise<ResponseOf<M, A>>;
  /** Durable: committed to the outbox before this returns; see OcppLink.enqueue. */
  enqueue<A extends ActionOf<M>>(action: A, payload: RequestOf<M, A>, opts?: { txKey?: string }): number;
  handle<A extends ActionOf<M>>(action: A, handler: TypedHandler<M, A>): void;
  onQueuedResult<A extends ActionOf<M>>(action: A, fn: (message: QueuedMessage<M, A>, response: ResponseOf<M, A>) => void): void;
  setQueuedPreparer<A extends ActionOf<M>>(action: A, fn: (message: QueuedMessage<M, A>) => RequestOf<M, A>): void;
}

/**
 * The link typed by the version map M (V16Messages or V201Messages). The one cast of the protocol layer
 * at the raw transport boundary: it is sound because ocpp-rpc runs in strict mode with these same
 * schemas (rpc-link.ts), so every inbound request and every CALLRESULT is validated against them before
 * a handler or a `call` sees it, and every outbound payload is checked before it is sent.
 */
export function typedLink<M extends MessageMap<M>>(link: OcppLink): TypedLink<M> {
  return link as unknown as TypedLink<M>;
}
