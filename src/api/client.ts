import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { DatamillError } from '../core/errors.js';
import type { LogEntry } from '../log/run-log.js';

/** The server answered with an error (`{error: {name, message}}`) or could not be reached. */
export class ApiRequestError extends DatamillError {
  constructor(
    message: string,
    readonly status: number | null,
    retryable = false,
  ) {
    super(message, { retryable });
  }
}

/** The HTTP API from the other side: what `runs`/`show`/`logs`/`trigger --server URL` use. */
export class ApiClient {
  private readonly base: string;

  constructor(
    server: string,
    private readonly token?: string,
  ) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new ApiRequestError(`--server ${server}: expected an http(s):// URL of a running \`datamill serve\``, null);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiRequestError(`--server ${server}: expected an http(s):// URL`, null);
    this.base = url.href.replace(/\/+$/, '');
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.json<T>('GET', path + queryString(query));
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>('POST', path, body);
  }

  /** NDJSON lines as they arrive (a followed log stays open until its run ends). */
  async *lines(path: string, query: Record<string, string | number | undefined> = {}): AsyncGenerator<LogEntry> {
    const res = await this.send('GET', path + queryString(query));
    if (!res.ok) throw await errorOf(res);
    if (!res.body) return;
    const input = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield JSON.parse(line) as LogEntry;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(this.base + path, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiRequestError(`cannot reach the Datamill server at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, null, true);
    }
  }
}

function queryString(query: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? '?' + text : '';
}

async function errorOf(res: Response): Promise<ApiRequestError> {
  const text = await res.text();
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: { name?: string; message?: string } };
    if (body.error?.message) detail = `${body.error.name ?? 'Error'}: ${body.error.message}`;
  } catch {
    /* not JSON: keep the text */
  }
  const hint = res.status === 401 ? ' (pass --token or set DATAMILL_TOKEN)' : '';
  return new ApiRequestError(`the server answered ${res.status}: ${detail}${hint}`, res.status, res.status >= 500);
}
