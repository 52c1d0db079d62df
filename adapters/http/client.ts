import { setTimeout as sleep } from 'node:timers/promises';
import { SourceError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import { parseDuration } from '../../src/spec/units.js';
import type { HttpSourceConfig } from './config.js';

export interface HttpRequest {
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** How the request appears in logs and errors: the URL as the job wrote it (references unresolved), and the page. */
  display: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Statuses worth another attempt: the server is overloaded, restarting or asks us to slow down. */
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** What a Retry-After header asks for, in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Sends the requests of one extract: at most `rate_limit` per second, each within `request_timeout`,
 * retried after network errors, timeouts, 429 and 5xx with exponential backoff (or as long as the
 * server's Retry-After says). Counts what it did for the stage figures.
 */
export class HttpClient {
  readonly figures = { requests: 0, retries: 0 };
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly spacingMs: number;
  private nextSlot = 0;

  constructor(config: Pick<HttpSourceConfig, 'request_retries' | 'request_timeout' | 'rate_limit'>, private readonly ctx: Pick<StageContext, 'signal' | 'log'>) {
    this.attempts = config.request_retries.attempts;
    this.backoffMs = parseDuration(config.request_retries.backoff) ?? 1000;
    this.maxBackoffMs = parseDuration(config.request_retries.max_backoff) ?? 60_000;
    this.timeoutMs = parseDuration(config.request_timeout) ?? 30_000;
    this.spacingMs = config.rate_limit === undefined ? 0 : 1000 / config.rate_limit;
  }

  /** The response of a 2xx, or a SourceError: retryable when the last failure was one worth retrying later. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.once(req);
      if ('response' in outcome) return outcome.response;
      const { failure, retryAfter } = outcome;
      if (!failure.retryable || attempt >= this.attempts) throw failure;
      const delay = retryAfter ?? Math.min(this.backoffMs * 2 ** (attempt - 1), this.maxBackoffMs);
      if (delay > this.maxBackoffMs) {
        throw new SourceError(`${failure.message}; the server asks to retry after ${Math.round(delay / 1000)} s, longer than request_retries.max_backoff`, { retryable: true, details: failure.details });
      }
      this.figures.retries++;
      this.ctx.log.warn(`${failure.message}; retrying in ${delay} ms (attempt ${attempt + 1} of ${this.attempts})`, { where: req.display, delay_ms: delay });
      await sleep(delay, undefined, { signal: this.ctx.signal });
    }
  }

  private async once(req: HttpRequest): Promise<{ response: HttpResponse } | { failure: SourceError; retryAfter: number | null }> {
    await this.waitForSlot();
    this.figures.requests++;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([this.ctx.signal, timeout]);
    const details = { where: req.display };
    try {
      const res = await fetch(req.url, { method: req.method, headers: req.headers, signal, redirect: 'follow', ...(req.body === undefined ? {} : { body: req.body }) });
      const text = await res.text();
      if (res.ok) return { response: { status: res.status, headers: res.headers, text } };
      const retryable = RETRY_STATUSES.has(res.status);
      const message = `${req.display}: HTTP ${res.status} ${res.statusText}${snippet(text)}${hintFor(res.status)}`;
      return { failure: new SourceError(redact(message), { retryable, details: { ...details, status: res.status, expected: 'a 2xx response' } }), retryAfter: retryable ? retryAfterMs(res.headers.get('retry-after')) : null };
    } catch (err) {
      this.ctx.signal.throwIfAborted();
      const why = timeout.aborted ? `no complete response within ${this.timeoutMs} ms (request_timeout)` : networkReason(err);
      return { failure: new SourceError(redact(`${req.display}: ${why}`), { retryable: true, cause: err, details: { ...details, expected: 'a reachable server' } }), retryAfter: null };
    }
  }

  /** Spaces request starts `1 / rate_limit` seconds apart. */
  private async waitForSlot(): Promise<void> {
    if (this.spacingMs === 0) return;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + this.spacingMs;
    if (at > now) await sleep(at - now, undefined, { signal: this.ctx.signal });
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `request failed: ${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return `request failed: ${(err as Error).message ?? String(err)}`;
}

/** The start of a response body, for errors: enough to recognise an HTML error page or an API's message. */
export function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length === 0) return '';
  return `: "${t.length > 120 ? t.slice(0, 120) + '…' : t}"`;
}

function hintFor(status: number): string {
  if (status === 401 || status === 403) return ' (check the credentials in extract.headers, extract.params or extract.url)';
  if (status === 404) return ' (check extract.url)';
  return '';
}
