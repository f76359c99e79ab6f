/**
 * Where the link hooks into ocpp-rpc's RPCClient (2.2.1), without changing the library:
 * - `_onMessage(data)` is the one entry of every incoming WebSocket message (the socket's 'message'
 *   listener and the messages buffered during the handshake both call it). It is wrapped so that a
 *   frame over ocpp.maxFrameBytes or nested deeper than MAX_FRAME_DEPTH never reaches JSON.parse,
 *   ocpp-rpc's dispatch, ajv or the message log: it is answered or ignored as OCPP-J wants
 *   (./frame-guard.ts). A frame of an unknown message type is ignored (1.6 §4.1.3) or answered
 *   MessageTypeNotSupported with its own id when it can be read (2.0.1 part 4 §4.4). Nothing thrown
 *   while handling a frame escapes into ws, where it would take the process down.
 * - `sendRaw(text)` is the one exit of every frame: CALLERRORs leave with the negotiated version's code,
 *   a short description and small details (./callerror.ts).
 */
import type { Logger } from '../../base/logger.js';
import { normalizeCallError } from './callerror.js';
import { MAX_FRAME_DEPTH, frameRefusal, readFrameHead, refusalAnswer, type FrameHead, type RefusalReason } from './frame-guard.js';
import type { OcppProtocol } from './link.js';

/** RPCClient members the guard wraps (private in ocpp-rpc: checked at install time). */
export interface GuardedClient {
  readonly protocol: string | undefined;
  readonly state: number;
  _onMessage(data: unknown): void;
  sendRaw(message: string): void;
}

/** A frame the guard kept from ocpp-rpc, for the message log. */
export interface HeldFrame {
  reason: RefusalReason | 'unknown-message-type';
  bytes: number;
  head: FrameHead;
  /** The CALLERROR code sent back (2.0.1 spelling), or undefined when the frame was ignored. */
  answered: string | undefined;
}

export interface InboundGuardOptions {
  maxFrameBytes: number;
  log: Logger;
  onHeld?: (frame: HeldFrame) => void;
}

/** ws's WebSocket.OPEN, which RPCClient.state reports. */
const OPEN = 1;
/** Bytes decoded of a frame too large to read whole: enough for its type, id and action. */
const HEAD_BYTES = 512;

function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(String(data), 'utf8');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function guardInbound(client: GuardedClient, opts: InboundGuardOptions): void {
  const onMessage = client._onMessage as unknown;
  const sendRaw = client.sendRaw as unknown;
  if (typeof onMessage !== 'function' || typeof sendRaw !== 'function') {
    // An ocpp-rpc upgrade moved the hooks: refuse to run unguarded.
    throw new Error('ocpp-rpc RPCClient has no _onMessage / sendRaw: the inbound frame guard cannot be installed');
  }
  const { log } = opts;
  const protocol = (): OcppProtocol | undefined => client.protocol as OcppProtocol | undefined;

  client.sendRaw = (message: string): void => {
    let out = message;
    try {
      out = normalizeCallError(message, protocol());
    } catch (err) {
      log.error('OCPP: an outgoing CALLERROR could not be checked; sent as is', { error: errorText(err) });
    }
    (sendRaw as (m: string) => void).call(client, out);
  };

  const answer = (messageId: string, code: string, description: string): void => {
    if (client.state !== OPEN) return;
    client.sendRaw(JSON.stringify([4, messageId, code, description, {}]));
  };

  const hold = (reason: HeldFrame['reason'], bytes: number, head: FrameHead, description: string): void => {
    let answered: string | undefined;
    if (reason === 'unknown-message-type') {
      // 1.6 §4.1.3: ignore; 2.0.1 §4.4: CALLERROR MessageTypeNotSupported.
      if (protocol() !== 'ocpp1.6') answered = 'MessageTypeNotSupported';
      if (answered) answer(head.messageId ?? '-1', answered, description);
    } else {
      const a = refusalAnswer(head, description);
      if (a) {
        answered = a.code;
        answer(a.messageId, a.code, a.description);
      }
    }
    const meta: Record<string, unknown> = { bytes, type: head.type ?? null, messageId: head.messageId ?? null };
    if (head.action !== undefined) meta.action = head.action;
    log.warn(`OCPP: frame from the CSMS refused (${description}); ${answered ? `answered with a CALLERROR` : 'ignored'}`, meta);
    opts.onHeld?.({ reason, bytes, head, answered });
  };

  client._onMessage = (data: unknown): void => {
    try {
      const buf = asBuffer(data);
      const limits = { maxBytes: opts.maxFrameBytes, maxDepth: MAX_FRAME_DEPTH };
      if (frameRefusal(buf.length, undefined, limits) === 'too-large') {
        const head = readFrameHead(buf.subarray(0, HEAD_BYTES).toString('utf8'));
        hold('too-large', buf.length, head, `frame of ${buf.length} bytes, the station accepts at most ${opts.maxFrameBytes}`);
        return;
      }
      const text = buf.toString('utf8');
      if (frameRefusal(buf.length, text, limits) === 'too-deep') {
        hold('too-deep', buf.length, readFrameHead(text), `arrays / objects nested deeper than ${MAX_FRAME_DEPTH} levels`);
        return;
      }
      const head = readFrameHead(text);
      if (head.type !== undefined && head.type !== 2 && head.type !== 3 && head.type !== 4) {
        hold('unknown-message-type', buf.length, head, `message type ${head.type} is not supported`);
        return;
      }
      (onMessage as (d: unknown) => void).call(client, buf);
    } catch (err) {
      log.error('OCPP: an incoming frame could not be handled; the connection stays up', { error: errorText(err) });
    }
  };
}
