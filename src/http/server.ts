/**
 * The HTTP server (fastify): GET / status page, GET /api/status, GET /api/events (Server-Sent Events),
 * GET /metrics, POST /api/sim (simulated board controls). Access rules: ./auth.ts. The server only
 * reads the station (./state.ts); the one thing it can change is the simulated board, through the same
 * functions as the control socket (src/control/protocol.ts).
 * A failure to listen (address in use …) is logged and the station runs on without it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TimerHandle } from '../../base/clock.js';
import { isLoopbackHost } from '../config/validate.js';
import { applyToSim, parseRequest } from '../control/protocol.js';
import { tokenChecker } from './auth.js';
import { createMetrics } from './metrics.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';
import { buildStatus } from './status.js';
import { HttpState } from './state.js';
import type { HttpDeps } from './sources.js';

export interface HttpServer {
  /** http://host:port/ as listened on (undefined when it could not listen). */
  readonly url: string | undefined;
  /** Page and event-stream clients connected now. */
  streams(): number;
  close(): Promise<void>;
}

/** Most event-stream clients at once; more get 503 (each holds a socket and a buffer). */
const MAX_STREAMS = 16;
/** A stream client that lets this much pile up unread is dropped. */
const MAX_BUFFERED = 1024 * 1024;
/** Link state (connected, retry time, outbox) is polled this often while a stream is open. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
/** Status fields that change with time alone. */
const TICKING = new Set(['now', 'uptimeS', 'nextRetryInS', 'oldestAgeS']);

/** A bundled file, read at its first request (an idle station with no page open does not hold it). */
function asset(path: string): () => string {
  const file = createRequire(import.meta.url).resolve(path);
  let text: string | undefined;
  return () => (text ??= readFileSync(file, 'utf8'));
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * No route here has a JSON schema, so fastify's default schema compilers (ajv with its JTD vocabulary,
 * fast-json-stringify) are never needed; given these, fastify does not load them (about 45 modules of
 * resident code an idle station would carry, npm run bench). A route given a schema fails at start with this message.
 */
function noSchemas(): never {
  throw new Error('src/http: routes have no JSON schemas; to add one, give createHttpApp a schema compiler (fastify schemaController)');
}

/** Builds the app (not listening): tests inject requests into it; startHttpServer listens. */
export function createHttpApp(d: HttpDeps): { app: FastifyInstance; state: HttpState; streams: () => number; stop: () => void } {
  const state = new HttpState(d);
  const metrics = createMetrics(d, state);
  const hasToken = tokenChecker(d.config.token);
  const dataNeedsToken = !isLoopbackHost(d.config.host);
  const uplotJs = asset('uplot/dist/uPlot.iife.min.js');
  const uplotCss = asset('uplot/dist/uPlot.min.css');
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.headers(SECURITY_HEADERS);
    const path = req.url.split('?')[0]!;
    const isData = path.startsWith('/api/') || path === '/metrics';
    if (path === '/api/sim') {
      if (!d.config.control) return reply.code(403).send({ ok: false, error: 'read-only: the controls need http.control and http.token in the config' });
      if (!hasToken(req.headers.authorization)) return reply.code(401).header('www-authenticate', 'Bearer').send({ ok: false, error: 'the controls need the bearer token (http.token)' });
    } else if (isData && dataNeedsToken && !hasToken(req.headers.authorization)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ ok: false, error: 'this address needs the bearer token (http.token)' });
    }
  });

  const page = (type: string, body: string | (() => string)) => async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.type(type).header('content-security-policy', PAGE_CSP).send(typeof body === 'string' ? body : body());
  app.get('/', page('text/html; charset=utf-8', PAGE_HTML));
  app.get('/assets/page.js', page('text/javascript; charset=utf-8', PAGE_JS));
  app.get('/assets/page.css', page('text/css; charset=utf-8', PAGE_CSS));
  app.get('/assets/uplot.js', page('text/javascript; charset=utf-8', uplotJs));
  app.get('/assets/uplot.css', page('text/css; charset=utf-8', uplotCss));

  // Browsers ask for it; no icon is better than a 404 in the console.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get('/api/status', async () => buildStatus(d, state));
  app.get('/metrics', async (_req, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });

  app.post('/api/sim', async (req, reply) => {
    if (!d.hal.sim) return reply.code(409).send({ ok: false, error: `board "${d.hal.board}" is not simulated: there is nothing to control` });
    let parsed;
    try {
      parsed = parseRequest(req.body);
      if (parsed.cmd !== 'status') {
        d.log.info('http control command', { cmd: parsed.cmd, evse: parsed.evse, kind: parsed.kind });
        applyToSim(d.hal.sim, parsed);
      }
    } catch (err) {
      return reply.code(400).send({ ok: false, error: (err as Error).message });
    }
    // The page wants the new power at once, not at the next sample.
    void state.sample();
    return { ok: true, sim: d.hal.sim.status() };
  });

  // ---- Server-Sent Events ----
  const clients = new Set<ServerResponse>();
  let statusJson = '';
  let pushQueued = false;
  const send = (event: string, data: unknown): void => {
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) {
      if (res.writableLength > MAX_BUFFERED) {
        d.log.warn('http: an event-stream client reads too slowly; dropped');
        res.destroy();
        clients.delete(res);
        continue;
      }
      res.write(text);
    }
  };
  const pushStatus = (): void => {
    if (!clients.size) return;
    const status = buildStatus(d, state);
    // Pushed when something changed, not because the clock moved (the page counts down by itself).
    const key = JSON.stringify(status, (k, v: unknown) => (TICKING.has(k) ? undefined : v));
    if (key === statusJson) return;
    statusJson = key;
    const text = `event: status\ndata: ${JSON.stringify(status)}\n\n`;
    for (const res of clients) res.write(text);
  };
  // Station events come in bursts (a plug-in changes status, session and limit at once): one push per burst.
  const offChange = state.onChange(() => {
    if (pushQueued || !clients.size) return;
    pushQueued = true;
    setImmediate(() => {
      pushQueued = false;
      pushStatus();
    });
  });
  const offSamples = state.onSamples((round) => {
    if (clients.size) send('samples', round);
  });
  const offFrames = state.frames.subscribe({ frame: (f) => clients.size && send('frame', f), call() {}, outcome() {} });
  let poll: TimerHandle | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  const timers = (on: boolean): void => {
    if (on && !poll) {
      poll = d.clock.setInterval(() => pushStatus(), POLL_MS);
      // A comment line now and then keeps proxies and phones from closing an idle stream.
      keepalive = setInterval(() => {
        for (const res of clients) res.write(': keepalive\n\n');
      }, KEEPALIVE_MS);
      keepalive.unref();
    } else if (!on && poll) {
      d.clock.clear(poll);
      clearInterval(keepalive);
      poll = keepalive = undefined;
    }
  };

  app.get('/api/events', (_req, reply) => {
    if (clients.size >= MAX_STREAMS) {
      void reply.code(503).send({ ok: false, error: `at most ${MAX_STREAMS} pages at once` });
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const status = JSON.stringify(buildStatus(d, state));
    res.write(`retry: 3000\nevent: snapshot\ndata: {"status":${status},"frames":${JSON.stringify(state.frames.frames())},"samples":${JSON.stringify(state.samples())}}\n\n`);
    clients.add(res);
    timers(true);
    // The response's close: the client went away (the request's own close only means it was read).
    res.on('close', () => {
      clients.delete(res);
      if (!clients.size) timers(false);
    });
  });

  state.start();
  return {
    app,
    state,
    streams: () => clients.size,
    stop: () => {
      timers(false);
      offChange();
      offSamples();
      offFrames();
      for (const res of clients) res.destroy();
      clients.clear();
      metrics.stop();
      state.stop();
    },
  };
}

/**
 * Builds the server and starts listening to the station at once (so it sees the first statuses and
 * faults when made before the station starts); listen() opens the port.
 */
export function createHttpServer(d: HttpDeps): HttpServer & { listen(): Promise<void> } {
  const { app, stop, streams } = createHttpApp(d);
  let url: string | undefined;
  let closing: Promise<void> | undefined;
  return {
    get url() {
      return url;
    },
    streams,
    async listen() {
      try {
        await app.listen({ host: d.config.host, port: d.config.port });
        const addr = app.server.address();
        if (addr && typeof addr === 'object') {
          const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          url = `http://${host}:${addr.port}/`;
        }
        d.log.info('status page listening', { url, control: d.config.control, token: d.config.token ? 'set' : 'none' });
      } catch (err) {
        d.log.error('status page: could not listen; the station runs on without it (change http.port, or set http.enabled false)', {
          host: d.config.host,
          port: d.config.port,
          error: (err as Error).message,
        });
      }
    },
    close() {
      closing ??= (async () => {
        stop();
        await app.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}
