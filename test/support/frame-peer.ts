/**
 * A bare CSMS for frame-level tests: ocpp-rpc's RPCServer without schema checks and without answers,
 * so a test sends exactly the text it wants (hostile frames, late answers) and sees every frame the
 * station sends, every connection it opens (with the path and query it requested) and how each ended.
 */
import { createRequire } from 'node:module';
import { RPCServer } from 'ocpp-rpc';

// A handler returning this symbol sends no answer (ocpp-rpc spreads it into module.exports, out of ESM's sight).
const { NOREPLY } = createRequire(import.meta.url)('ocpp-rpc') as { NOREPLY: symbol };

interface PeerClient {
  identity: string;
  on(event: string, fn: (arg: never) => void): void;
  handle(fn: () => unknown): void;
  sendRaw(message: string): void;
  close(opts?: { force?: boolean }): Promise<unknown>;
}

export interface FramePeer {
  /** ws://127.0.0.1:PORT/ocpp — the station appends its identity. */
  readonly url: string;
  /** Text frames received from the station, in order (all connections). */
  readonly received: string[];
  /** request.url (path and query) of every accepted or refused upgrade. */
  readonly requests: string[];
  /** How each connection ended, as the peer saw it. */
  readonly closes: { code: number; reason: string }[];
  /** Connections accepted so far. */
  connections(): number;
  /** Send a text frame to the station's current connection. */
  send(frame: string): void;
  close(): Promise<void>;
}

export interface FramePeerOptions {
  protocols?: string[];
  /** Refuse every upgrade with this HTTP status. */
  refuse?: number;
}

export async function startFramePeer(opts: FramePeerOptions = {}): Promise<FramePeer> {
  const received: string[] = [];
  const requests: string[] = [];
  const closes: { code: number; reason: string }[] = [];
  let current: PeerClient | undefined;
  let accepted = 0;
  const server = new RPCServer({ protocols: opts.protocols ?? ['ocpp1.6', 'ocpp2.0.1'], strictMode: false, pingIntervalMs: 0 });
  server.auth((accept, reject, handshake) => {
    requests.push(handshake.request.url ?? '');
    if (opts.refuse) return reject(opts.refuse, 'refused by the test peer');
    accept();
  });
  server.on('client', (client: PeerClient) => {
    current = client;
    accepted++;
    // Station calls stay unanswered: a test answers them by hand (or lets them time out).
    client.handle(() => NOREPLY);
    client.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
      if (!outbound) received.push(message);
    });
    client.on('close', ({ code, reason }: { code: number; reason: string }) => closes.push({ code, reason }));
  });
  const http = await server.listen(0, '127.0.0.1');
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `ws://127.0.0.1:${address.port}/ocpp`,
    received,
    requests,
    closes,
    connections: () => accepted,
    send(frame) {
      if (!current) throw new Error('no station connected');
      current.sendRaw(frame);
    },
    async close() {
      await current?.close({ force: true });
      await server.close({ force: true });
    },
  };
}
