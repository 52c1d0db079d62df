import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface JsonApi {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void;

/** A real HTTP server on a free local port; `handle` answers each request and every request is recorded. */
export async function startJsonApi(handle: Handler): Promise<JsonApi> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body, at: Date.now() };
      requests.push(seen);
      handle(seen, res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Sample records: `{ id, name, amount, updated_at }` with ids 1..n and updated_at one minute apart. */
export function sampleRecords(n: number, firstId = 1): Array<{ id: number; name: string; amount: string; updated_at: string }> {
  return Array.from({ length: n }, (_, i) => {
    const id = firstId + i;
    return { id, name: `item ${id}`, amount: (id * 1.25).toFixed(2), updated_at: new Date(Date.UTC(2026, 0, 1, 0, id)).toISOString() };
  });
}
