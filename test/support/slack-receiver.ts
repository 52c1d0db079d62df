import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackReceiver {
  /** The webhook URL, with a secret-looking path like Slack's. */
  url: string;
  /** JSON bodies received, in order (every request, including failed ones). */
  posts: Array<Record<string, any>>;
  /** What to answer: 200 "ok" like Slack, or an error status. */
  status: number;
  close(): Promise<void>;
}

/** A real HTTP server speaking the incoming-webhook protocol: POST JSON, answer `ok`. */
export async function startSlackReceiver(): Promise<SlackReceiver> {
  const posts: Array<Record<string, any>> = [];
  const receiver: SlackReceiver = { url: '', posts, status: 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({ path: req.url, method: req.method, contentType: req.headers['content-type'], ...(JSON.parse(body) as Record<string, unknown>) });
      res.writeHead(receiver.status, { 'content-type': 'text/plain' }).end(receiver.status === 200 ? 'ok' : 'internal_error');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0001/B0002/hooksecret0123456789`;
  receiver.close = () => new Promise((done) => server.close(() => done()));
  return receiver;
}
