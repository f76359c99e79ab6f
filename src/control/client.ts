/** Sends one request to the daemon's control socket and waits for its answer line. */
import { createConnection } from 'node:net';
import type { ControlResponse } from './protocol.js';

/** The daemon did not answer because it is not there (or not reachable by this user). */
export class DaemonUnreachableError extends Error {}

export async function sendControlRequest(socketPath: string, request: Record<string, unknown>, timeoutMs = 5000): Promise<ControlResponse> {
  return new Promise<ControlResponse>((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffered = '';
    let settled = false;
    const finish = (err: Error | undefined, answer?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer as ControlResponse);
    };
    // A CLI process waits in real time: this timer is not station time, so no Clock here.
    const timer = setTimeout(() => finish(new Error(`no answer from the daemon on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      try {
        finish(undefined, JSON.parse(buffered.slice(0, nl)) as ControlResponse);
      } catch {
        finish(new Error('the daemon sent an answer that is not JSON'));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        finish(new DaemonUnreachableError(`the station daemon is not running (no control socket at ${socketPath})`));
      } else if (err.code === 'ECONNREFUSED') {
        finish(new DaemonUnreachableError(`the station daemon is not running (nothing listens on ${socketPath})`));
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        finish(new DaemonUnreachableError(`permission denied on ${socketPath}: run as the daemon's user`));
      } else {
        finish(new Error(`control socket ${socketPath}: ${err.message}`));
      }
    });
    socket.on('close', () => finish(new Error('the daemon closed the connection without answering')));
  });
}
