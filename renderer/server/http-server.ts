/**
 * The local viewer server used where Electron is absent: serves the page and answers the
 * ViewerService calls over HTTP, on 127.0.0.1 only. Requests whose Host header is not this
 * address are refused (a web page elsewhere cannot reach the server through DNS rebinding).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLS } from '../protocol/api.js';
import type { LoadRequest } from '../protocol/types.js';
import { webAssets } from './bundle.js';
import type { ViewerService } from './viewer-service.js';

export interface ViewerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'viewer.css': 'text/css; charset=utf-8',
  'viewer.js': 'text/javascript; charset=utf-8',
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const sendJson = (res: ServerResponse, value: unknown, status = 200) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limitBytes) throw new Error('request body too large');
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Starts the server on 127.0.0.1:port (0 picks a free port). */
export async function startViewerServer(service: ViewerService, port = 0): Promise<ViewerServer> {
  const assets = await webAssets(); // fail early if the page cannot be built
  let allowedHosts: Set<string> = new Set();
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (!allowedHosts.has(req.headers.host ?? '')) return send(res, 403, 'text/plain', 'forbidden host\n');
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const path = url.pathname;
        if (req.method === 'GET' && (path === '/' || path === '/index.html')) return send(res, 200, TYPES['index.html']!, assets['index.html']);
        if (req.method === 'GET' && (path === '/viewer.js' || path === '/viewer.css')) {
          const name = path.slice(1) as 'viewer.js' | 'viewer.css';
          return send(res, 200, TYPES[name]!, assets[name]);
        }
        if (req.method === 'GET' && path === CALLS.listScenarios.path) return sendJson(res, service.listScenarios());
        if (req.method === 'GET' && path === CALLS.initial.path) return sendJson(res, service.initial());
        if (req.method === 'POST' && path === CALLS.loadScenario.path) {
          let body: LoadRequest;
          try {
            body = JSON.parse(await readBody(req, 4 << 20)) as LoadRequest;
          } catch (e) {
            return sendJson(res, { ok: false, error: `load request: ${(e as Error).message}` }, 400);
          }
          return sendJson(res, await service.loadScenario(body));
        }
        if (req.method === 'GET' && path === CALLS.frames.path) {
          const q = url.searchParams;
          const r = await service.frames(q.get('session') ?? '', Number(q.get('from')), Number(q.get('count') ?? 64));
          if (r instanceof Uint8Array) return send(res, 200, 'application/octet-stream', r);
          return sendJson(res, r);
        }
        if (req.method === 'GET' && path === CALLS.imagine.path) {
          const q = url.searchParams;
          const r = await service.imagine(q.get('session') ?? '', Number(q.get('index')));
          if (r instanceof Uint8Array) return send(res, 200, 'application/octet-stream', r);
          return sendJson(res, r);
        }
        if (req.method === 'GET' && path === CALLS.outcome.path) {
          const q = url.searchParams;
          return sendJson(res, await service.outcome(q.get('session') ?? '', Number(q.get('controller'))));
        }
        if (path === '/favicon.ico') return send(res, 204, 'text/plain', '');
        send(res, 404, 'text/plain', 'not found\n');
      } catch (e) {
        if (!res.headersSent) sendJson(res, { ok: false, error: `internal error: ${(e as Error).message}` }, 500);
        else res.end();
      }
    })();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  allowedHosts = new Set([`127.0.0.1:${actual}`, `localhost:${actual}`]);
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
