import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An S3 error as S3 sends it: a status and an XML body with Code and Message. */
export interface S3Fault {
  status: number;
  code: string;
  message: string;
}

export interface FaultProxy {
  endpoint: string;
  /** Faults answered so far. */
  injected: number;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy in front of the test s3rver that answers chosen requests with S3 errors (throttling,
 * 5xx, expired credentials) and passes the rest through unchanged, Host header included (the client's
 * signature covers it). `fault` sees each request and how many times that exact request came before.
 */
export async function startFaultProxy(target: string, fault: (req: IncomingMessage, seen: number) => S3Fault | null): Promise<FaultProxy> {
  const to = new URL(target);
  const seen = new Map<string, number>();
  const proxy: FaultProxy = { endpoint: '', injected: 0, close: async () => undefined };
  const server = createServer((req, res) => {
    const key = `${req.method} ${req.url}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    const f = fault(req, n);
    if (f) {
      proxy.injected++;
      req.resume();
      req.once('end', () => {
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${f.code}</Code><Message>${f.message}</Message><RequestId>fault-${proxy.injected}</RequestId></Error>`;
        res.writeHead(f.status, { 'content-type': 'application/xml', 'content-length': req.method === 'HEAD' ? 0 : Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      return;
    }
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}

export const SLOW_DOWN: S3Fault = { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' };
export const INTERNAL: S3Fault = { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
export const EXPIRED: S3Fault = { status: 403, code: 'ExpiredToken', message: 'The provided token has expired.' };
