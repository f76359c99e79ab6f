/**
 * CALLERROR codes as each OCPP-J version spells them, and the schema check that picks them.
 *
 * OCPP-J 1.6 table 7 and 2.0.1 part 4 §4.3 (table 8) differ:
 * - 1.6 has FormationViolation and OccurenceConstraintViolation, both misspelt and both kept by the
 *   OCPP-J 1.6 errata §5 ("do not fix, this is a message level change"); 2.0.1 spells them
 *   FormatViolation and OccurrenceConstraintViolation;
 * - 1.6 has no RpcFrameworkError and no MessageTypeNotSupported: a frame that is no valid RPC message is
 *   a FormationViolation there ("not conform the PDU structure"), and a frame of an unknown message type
 *   is ignored (1.6 §4.1.3).
 * ocpp-rpc 2.2.1 gets this backwards: its schema check always says OccurenceConstraintViolation, and for
 * 1.6 it "corrects" that to OccurrenceConstraintViolation; it calls an enum violation a FormatViolation.
 * The link therefore validates with the wrappers below and passes every outgoing CALLERROR through
 * normalizeCallError, so the code on the wire is always one of the negotiated version's table.
 */
import { createRequire } from 'node:module';
import { createRPCError } from 'ocpp-rpc';
import type { OcppProtocol } from './link.js';

/** Error codes in 2.0.1 spelling; `CallErrorCode` is what the link's own code uses before mapping. */
export type CallErrorCode =
  | 'FormatViolation'
  | 'GenericError'
  | 'InternalError'
  | 'MessageTypeNotSupported'
  | 'NotImplemented'
  | 'NotSupported'
  | 'OccurrenceConstraintViolation'
  | 'PropertyConstraintViolation'
  | 'ProtocolError'
  | 'RpcFrameworkError'
  | 'SecurityError'
  | 'TypeConstraintViolation';

const V16_CODES = new Set([
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
]);

const V201_CODES = new Set<string>([
  'FormatViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'NotImplemented',
  'NotSupported',
  'OccurrenceConstraintViolation',
  'PropertyConstraintViolation',
  'ProtocolError',
  'RpcFrameworkError',
  'SecurityError',
  'TypeConstraintViolation',
]);

/** Codes of the other version (or of either spelling) and what they are in 1.6 / 2.0.1. */
const TO_V16: Record<string, string> = {
  FormatViolation: 'FormationViolation',
  OccurrenceConstraintViolation: 'OccurenceConstraintViolation',
  RpcFrameworkError: 'FormationViolation',
  MessageTypeNotSupported: 'FormationViolation',
};
const TO_V201: Record<string, string> = {
  FormationViolation: 'FormatViolation',
  OccurenceConstraintViolation: 'OccurrenceConstraintViolation',
};

/** The code as the negotiated version spells it; a code the version does not have becomes GenericError. */
export function callErrorCodeFor(code: string, protocol: OcppProtocol | undefined): string {
  if (protocol === 'ocpp1.6') {
    const c = TO_V16[code] ?? code;
    return V16_CODES.has(c) ? c : 'GenericError';
  }
  const c = TO_V201[code] ?? code;
  return V201_CODES.has(c) ? c : 'GenericError';
}

/**
 * The error code a failed JSON-schema keyword stands for (2.0.1 spelling). Type: a field of the wrong
 * data type; occurrence: a field missing or a list too long / short; property: a field present with a
 * value outside its enumeration, range, length or pattern, or a field the message does not define;
 * anything else (oneOf, …) leaves the payload not conform the PDU: FormatViolation.
 */
export function schemaErrorCode(keyword: string | undefined): CallErrorCode {
  switch (keyword) {
    case 'type':
      return 'TypeConstraintViolation';
    case 'required':
    case 'minItems':
    case 'maxItems':
    case 'additionalItems':
    case 'minProperties':
    case 'maxProperties':
    case 'dependencies':
    case 'dependentRequired':
      return 'OccurrenceConstraintViolation';
    case 'enum':
    case 'const':
    case 'pattern':
    case 'format':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'multipleOf':
    case 'minLength':
    case 'maxLength':
    case 'additionalProperties':
    case 'propertyNames':
      return 'PropertyConstraintViolation';
    default:
      return 'FormatViolation';
  }
}

/** 2.0.1 part 4 table 7: ErrorDescription is string[255]. */
export const MAX_DESCRIPTION = 255;
/** errorDetails larger than this (as JSON) are replaced by {}: a CALLERROR never echoes a payload back. */
export const MAX_DETAILS_BYTES = 512;

/** Details small enough to send, or {} (also for anything JSON.stringify cannot handle). */
export function smallDetails(details: unknown): Record<string, unknown> {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) return {};
  try {
    const text = JSON.stringify(details);
    return text !== undefined && Buffer.byteLength(text) <= MAX_DETAILS_BYTES ? (details as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** ocpp-rpc's strict-mode validator (lib/validator.js), as far as it is used here. */
interface RpcValidator {
  readonly subprotocol: string;
  readonly _ajv: { getSchema(id: string): unknown };
  validate(schemaId: string, params: unknown): unknown;
}

interface AjvError {
  keyword?: string;
  instancePath?: string;
  message?: string;
}

// The very validators RPCClient uses by default (same module instance), so no schema is compiled twice.
const standardValidators = createRequire(import.meta.url)('ocpp-rpc/lib/standard-validators.js') as readonly RpcValidator[];

/**
 * ocpp-rpc's validators with OCPP's codes: an action without a schema in the version is NotImplemented
 * (the version does not know it), a schema violation carries the code of its first failed keyword and
 * only the failed keyword and path as details, never the payload (ocpp-rpc puts the whole payload in
 * the details, which made a deep payload's CALLERROR unsendable and closed the connection).
 * Given to RPCClient as strictModeValidators, they replace the standard ones of the same subprotocol.
 */
export function ocppValidators(): RpcValidator[] {
  return standardValidators.map((std) => ({
    subprotocol: std.subprotocol,
    _ajv: std._ajv,
    validate(schemaId: string, params: unknown): unknown {
      if (!std._ajv.getSchema(schemaId)) {
        const action = schemaId.replace(/^urn:|\.(req|conf)$/g, '');
        throw createRPCError('NotImplemented', `${action} is not an action of ${std.subprotocol}`, {});
      }
      try {
        return std.validate(schemaId, params);
      } catch (err) {
        const first = ((err as { details?: { errors?: AjvError[] } }).details?.errors ?? [])[0];
        const where = first?.instancePath || '/';
        const text = first ? `${where} ${first.message ?? 'is invalid'}` : (err as Error).message;
        throw createRPCError(schemaErrorCode(first?.keyword), text.slice(0, MAX_DESCRIPTION), first ? { keyword: first.keyword, path: where } : {});
      }
    },
  }));
}

/**
 * An outgoing CALLERROR frame with the code of the negotiated version, a description of at most 255
 * characters and small details. Other frames, and anything that cannot be read, are returned as given.
 */
export function normalizeCallError(frame: string, protocol: OcppProtocol | undefined): string {
  if (!frame.startsWith('[4,')) return frame;
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return frame;
  }
  if (!Array.isArray(parsed) || parsed.length < 3 || typeof parsed[2] !== 'string') return frame;
  const [, id, code, description, details] = parsed as [number, unknown, string, unknown, unknown];
  const text = typeof description === 'string' ? description.slice(0, MAX_DESCRIPTION) : '';
  return JSON.stringify([4, id, callErrorCodeFor(code, protocol), text, smallDetails(details)]);
}
