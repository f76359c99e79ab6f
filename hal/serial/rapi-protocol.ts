/**
 * OpenEVSE RAPI framing and state codes (firmware rapi_proc.h, RAPI 2.0+ / 5.x):
 * host sends `$CC args^XK\r` where XK is the 8-bit XOR of every character before '^' in two
 * hex digits; the board answers `$OK args^XK` or `$NK args^XK` and sends asynchronous notices
 * (`$ST state`, `$AT evse pilot amps vflags`, `$AB post fw`, …) at any time. Old firmware may
 * use the additive `*CK` checksum or none; v3+ may append a sequence id `:SS` before the checksum.
 */
import type { HalFaultKind, PilotState } from '../types.js';

export function xorChecksum(text: string): string {
  let x = 0;
  for (let i = 0; i < text.length; i++) x ^= text.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

function sumChecksum(text: string): string {
  let s = 0;
  for (let i = 0; i < text.length; i++) s = (s + (text.charCodeAt(i) & 0xff)) & 0xff;
  return s.toString(16).toUpperCase().padStart(2, '0');
}

/** `frame('SC', ['16', 'V'])` → `$SC 16 V^2A\r` (checksum over everything before '^'). */
export function frame(cmd: string, args: readonly (string | number)[] = []): string {
  const body = ['$' + cmd, ...args.map(String)].join(' ');
  return `${body}^${xorChecksum(body)}\r`;
}

export type RapiLine =
  | { kind: 'reply'; ok: boolean; args: string[] }
  | { kind: 'notice'; cmd: string; args: string[] }
  | { kind: 'bad'; reason: string };

/** Parse one line from the board; `requireChecksum` rejects lines without one. */
export function parseLine(raw: string, requireChecksum: boolean): RapiLine {
  const start = raw.indexOf('$');
  if (start < 0) return { kind: 'bad', reason: 'no $' };
  let body = raw.slice(start).trim();
  const xor = /\^([0-9A-Fa-f]{2})$/.exec(body);
  const sum = /\*([0-9A-Fa-f]{2})$/.exec(body);
  if (xor) {
    body = body.slice(0, -3);
    if (xorChecksum(body) !== xor[1]!.toUpperCase()) return { kind: 'bad', reason: `checksum mismatch in ${raw}` };
  } else if (sum) {
    body = body.slice(0, -3);
    if (sumChecksum(body) !== sum[1]!.toUpperCase()) return { kind: 'bad', reason: `checksum mismatch in ${raw}` };
  } else if (requireChecksum) {
    return { kind: 'bad', reason: `no checksum in ${raw}` };
  }
  const parts = body.slice(1).split(' ').filter((p) => p !== '' && !/^:[0-9A-Fa-f]{2}$/.test(p));
  const cmd = (parts.shift() ?? '').toUpperCase();
  if (cmd === 'OK' || cmd === 'NK') return { kind: 'reply', ok: cmd === 'OK', args: parts };
  if (!/^[A-Z0-9]{2}$/.test(cmd)) return { kind: 'bad', reason: `not a RAPI line: ${raw}` };
  return { kind: 'notice', cmd, args: parts };
}

export const EVSE_STATE_SLEEPING = 0xfe;
export const EVSE_STATE_DISABLED = 0xff;

export interface RapiStateMeaning {
  /** The IEC pilot state, or undefined when the code does not say (sleeping, disabled, unknown). */
  pilot?: PilotState;
  fault?: { kind: HalFaultKind; detail: string };
}

/** EVSE_STATE_xxx codes of the OpenEVSE firmware and what they mean here. All board faults are high. */
export function mapEvseState(code: number): RapiStateMeaning {
  switch (code) {
    case 0x01:
      return { pilot: 'A' };
    case 0x02:
      return { pilot: 'B' };
    case 0x03:
      return { pilot: 'C' };
    case 0x04:
      return { pilot: 'D' }; // vent required
    case 0x05:
      return { pilot: 'F', fault: { kind: 'diode-failure', detail: 'diode check failed' } };
    case 0x06:
      return { pilot: 'F', fault: { kind: 'rcd-trip', detail: 'GFI fault' } };
    case 0x07:
      return { pilot: 'F', fault: { kind: 'ground-failure', detail: 'no ground' } };
    case 0x08:
      return { pilot: 'F', fault: { kind: 'contactor-welded', detail: 'stuck relay' } };
    case 0x09:
      return { pilot: 'F', fault: { kind: 'rcd-trip', detail: 'GFI self-test failed' } };
    case 0x0a:
      return { pilot: 'F', fault: { kind: 'high-temperature', detail: 'over temperature' } };
    case 0x0b:
      return { pilot: 'F', fault: { kind: 'overcurrent', detail: 'over current' } };
    case 0x0e:
      return { pilot: 'F', fault: { kind: 'contactor-stuck-open', detail: 'relay closure fault' } };
    case EVSE_STATE_SLEEPING:
    case EVSE_STATE_DISABLED:
    case 0x00:
      return {};
    default:
      if (code >= 0x04 && code < 0xfe) return { pilot: 'F', fault: { kind: 'pilot-error', detail: `EVSE fault state 0x${code.toString(16)}` } };
      return {};
  }
}

/** The pilot-state field of $GS / $AT uses the same codes, without faults. */
export function mapPilotCode(code: number): PilotState | undefined {
  return code >= 1 && code <= 4 ? (['A', 'B', 'C', 'D'] as const)[code - 1] : undefined;
}
