/**
 * Limits in front of everything that walks an incoming OCPP-J frame (JSON.parse, ocpp-rpc's dispatch,
 * ajv, the message log's redaction and JSON.stringify, the handlers). Recursive walkers overflow the
 * stack on a deep enough frame (`[[[…]]]` of depth ~2,500 took the whole process down), so depth is
 * measured here without recursion and without parsing, before anything else sees the text.
 *
 * The deepest legitimate OCPP message is far below MAX_FRAME_DEPTH: a 2.0.1 SetChargingProfile with a
 * sales tariff nests 12 levels including the frame's own array.
 */

/** Deepest nesting of arrays and objects accepted in a frame (the frame's own array counts as 1). */
export const MAX_FRAME_DEPTH = 64;

/**
 * ws buffers at most this many times ocpp.maxFrameBytes of one message: frames between the limit and
 * this bound are read whole and refused with an answer; above it ws itself stops reading and closes the
 * connection with 1009 (Message Too Big), so one frame can never grow the station's memory unbounded.
 */
export const WS_BUFFER_FACTOR = 4;

const OPEN_BRACKET = 0x5b; // [
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACKET = 0x5d; // ]
const CLOSE_BRACE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** True when arrays / objects in `text` nest deeper than `max` (strings are skipped; one pass, no recursion). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return false;
}

/** What can be read from the start of a frame without parsing the rest of it. */
export interface FrameHead {
  /** The message type number, when the frame starts with `[` and a number. */
  type?: number;
  /** The message id, when it follows the type as a JSON string (long ids are not echoed back). */
  messageId?: string;
  /** A CALL's action, when it follows the id as a JSON string. */
  action?: string;
}

const MAX_ECHOED_ID = 128;
const MAX_ACTION = 64;
const WS = /\s*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

function readToken(re: RegExp, text: string, at: number): { value: string; next: number } | undefined {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? { value: m[0], next: re.lastIndex } : undefined;
}

/** The string a JSON string literal stands for, or undefined (e.g. a raw control character in it). */
function jsonString(literal: string): string | undefined {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

function skipSpace(text: string, at: number): number {
  WS.lastIndex = at;
  WS.exec(text);
  return WS.lastIndex;
}

/**
 * Reads `[type, "id", "action"` from the start of a frame (or of its first bytes): enough to answer a
 * frame that is too large or too deep to be parsed, with the id the peer can match.
 */
export function readFrameHead(frame: string): FrameHead {
  const head: FrameHead = {};
  // The head is in the first few hundred characters; never scan a megabyte-long "id".
  const text = frame.slice(0, 1024);
  let i = skipSpace(text, 0);
  if (text[i] !== '[') return head;
  i = skipSpace(text, i + 1);
  const num = readToken(NUMBER, text, i);
  if (!num) return head;
  head.type = Number(num.value);
  i = skipSpace(text, num.next);
  if (text[i] !== ',') return head;
  i = skipSpace(text, i + 1);
  const id = readToken(STRING, text, i);
  if (!id || id.value.length > MAX_ECHOED_ID + 2) return head;
  head.messageId = jsonString(id.value);
  if (head.messageId === undefined) return head;
  i = skipSpace(text, id.next);
  if (text[i] !== ',') return head;
  i = skipSpace(text, i + 1);
  const action = readToken(STRING, text, i);
  const name = action && action.value.length <= MAX_ACTION + 2 ? jsonString(action.value) : undefined;
  if (name !== undefined) head.action = name;
  return head;
}

export type RefusalReason = 'too-large' | 'too-deep';

/** Why a frame may not be handed to the parser, or undefined when it may. */
export function frameRefusal(bytes: number, text: string | undefined, limits: { maxBytes: number; maxDepth: number }): RefusalReason | undefined {
  if (bytes > limits.maxBytes) return 'too-large';
  if (text !== undefined && nestedDeeperThan(text, limits.maxDepth)) return 'too-deep';
  return undefined;
}

/** A CALLERROR (2.0.1 code names; the link maps them to the negotiated version) or undefined: ignore. */
export interface RefusalAnswer {
  messageId: string;
  code: 'FormatViolation' | 'RpcFrameworkError';
  description: string;
}

/**
 * How OCPP-J wants a refused frame answered. A CALL whose id can be read gets a FormatViolation with
 * that id (2.0.1 B06.FR.17 uses FormatViolation for a message over the station's byte limit); a
 * CALLRESULT or CALLERROR is never answered; anything else is a corrupt message: RpcFrameworkError
 * with the id "-1" when the id cannot be read (2.0.1 part 4 §4.2.3).
 */
export function refusalAnswer(head: FrameHead, description: string): RefusalAnswer | undefined {
  if (head.type === 3 || head.type === 4) return undefined;
  if (head.type === 2 && head.messageId !== undefined) return { messageId: head.messageId, code: 'FormatViolation', description };
  return { messageId: head.messageId ?? '-1', code: 'RpcFrameworkError', description };
}
