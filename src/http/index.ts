/** The operator's window: status page, JSON status, Prometheus metrics (see ./server.ts). */
export { createHttpApp, createHttpServer, type HttpServer } from './server.js';
export type { HttpDeps, LinkView, LinkStatusView, HardwareView } from './sources.js';
