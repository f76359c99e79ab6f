/**
 * Access rules of the HTTP server (README: Status page, API and metrics):
 * - the page itself (HTML, script, style, uPlot) holds no station data and is served to anyone who
 *   can reach the address;
 * - data (/api/…, /metrics) needs the bearer token when the server listens on anything but loopback
 *   (the config refuses such an address without a token);
 * - control (/api/sim) needs http.control and the bearer token, on every address.
 * Tokens are compared in constant time (over their SHA-256, so the length does not leak either).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function tokenChecker(token: string | undefined): (authorization: string | undefined) => boolean {
  if (!token) return () => false;
  const want = digest(token);
  return (authorization) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]!), want);
  };
}
