/**
 * A local HTTP server on 127.0.0.1 for the file transfers the CSMS asks for: it serves firmware files,
 * receives diagnostics uploads, and answers 404 for anything else. Every request is recorded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: Buffer;
}

export interface FileServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: Received[];
  /** GET path answers 200 with content. */
  serve(path: string, content: Buffer | string): void;
  /** POST / PUT to path answers 201 and keeps the body. */
  accept(path: string): void;
  close(): Promise<void>;
}

export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const sinks = new Set<string>();
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const method = req.method ?? 'GET';
      requests.push({ method, path, contentType: req.headers['content-type'], authorization: req.headers.authorization, body: Buffer.concat(chunks) });
      const file = files.get(path);
      if (method === 'GET' && file) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
        res.end(file);
      } else if ((method === 'POST' || method === 'PUT') && sinks.has(path)) {
        res.writeHead(201).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    serve: (path, content) => void files.set(path, Buffer.from(content)),
    accept: (path) => void sinks.add(path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
