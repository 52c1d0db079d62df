import type { IncomingMessage, ServerResponse } from 'node:http';
import { DatamillError, NotSupportedError, SpecError } from '../core/errors.js';
import { redact } from '../spec/secrets.js';

/** An error with the HTTP status it answers with; `name` goes out as `error.name`. */
export class ApiError extends DatamillError {
  constructor(
    readonly status: number,
    name: string,
    message: string,
  ) {
    super(message);
    this.name = name;
  }
}

export const notFound = (what: string) => new ApiError(404, 'NotFound', `${what} not found`);
export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

/** Every body goes through redact(): a secret this process resolved never leaves it, whatever field holds it. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = redact(JSON.stringify(body, null, 2)) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** `{error: {name, message}}` with a status from the error's class; unknown throws become 500 without detail leaks. */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof ApiError ? err.status : err instanceof SpecError ? 400 : err instanceof NotSupportedError ? 501 : err instanceof DatamillError ? 409 : 500;
  const name = err instanceof Error && status !== 500 ? err.name : 'InternalError';
  const message = err instanceof Error ? err.message : String(err);
  sendJson(res, status, { error: { name, message } });
}

const MAX_BODY = 64 * 1024;

/** Reads a small JSON object body (trigger params); an empty body is `{}`. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'PayloadTooLarge', `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('request body must be a JSON object, e.g. {"params": {"day": "2026-01-01"}}');
  return body as Record<string, unknown>;
}
