import type { CsmsLogEntry } from './csms.js';

/** One readable line per OCPP message, as the demo and the dev CSMS print them. */
export function formatCsmsEntry(e: CsmsLogEntry, t0: number, width = 110): string {
  const t = ((e.at - t0) / 1000).toFixed(1).padStart(6);
  const arrow = e.direction === 'in' ? `${e.identity} → CSMS ` : `CSMS → ${e.identity} `;
  const kind =
    e.type === 'call'
      ? `${e.action ?? '?'}`
      : e.type === 'result'
        ? `  ↳ ${e.action ?? ''} result`
        : `  ↳ ${e.action ?? ''} CALLERROR`;
  let body = JSON.stringify(e.payload);
  if (body.length > width) body = body.slice(0, width - 3) + '...';
  return `${t}s  ${arrow} ${kind.padEnd(28)} ${body}`;
}
