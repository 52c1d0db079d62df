import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import { DatamillError, LoadError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact, scrubUrl } from '../../src/spec/secrets.js';
import { parseDuration } from '../../src/spec/units.js';
import type { ElasticsearchSinkConfig } from './config.js';

export interface Connection {
  client: Client;
  /** `host:port` of every node: enough to find the cluster, nothing secret. */
  server: string;
  /** Removes the resolved node URLs and their passwords from a driver message. */
  scrub(text: string): string;
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return '(unparsable node URL)';
  }
}

/** A PEM given inline (through `${file:…}`) or a file path relative to the job file. */
function readCa(ctx: Pick<StageContext, 'secret' | 'baseDir'>, ca: string): string {
  const value = ctx.secret(ca);
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(resolve(ctx.baseDir, value), 'utf8');
  } catch (err) {
    throw new LoadError(`load.tls.ca: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { details: { where: 'load.tls.ca', value, expected: 'a readable PEM file' } });
  }
}

/**
 * Builds the official client for one load. Node URLs and credentials are resolved from their references
 * only here. The client's own retries are off: the sink retries 429s itself, with backoff, and leaves
 * every other failure to the stage's retries (documents have stable `_id`s, so a retried load overwrites).
 */
export function connectElasticsearch(ctx: Pick<StageContext, 'secret' | 'baseDir'>, config: ElasticsearchSinkConfig): Connection {
  const urls = (Array.isArray(config.node) ? config.node : [config.node]).map((n) => ctx.secret(n));
  for (const url of urls) {
    if (!/^https?:\/\/[^/]/i.test(url)) {
      throw new LoadError('load.node must be an http:// or https:// URL (after resolving its reference)', { details: { where: 'load.node', expected: 'https://host:9200' } });
    }
  }
  const server = urls.map(hostOf).join(', ');
  const options: ClientOptions = { nodes: urls, maxRetries: 0, requestTimeout: parseDuration(config.request_timeout)!, compression: false, name: 'datamill' };
  if (config.auth && 'api_key' in config.auth) options.auth = { apiKey: ctx.secret(config.auth.api_key) };
  else if (config.auth) options.auth = { username: ctx.secret(config.auth.username), password: ctx.secret(config.auth.password) };
  if (config.tls) {
    options.tls = { rejectUnauthorized: config.tls.verify, ...(config.tls.ca ? { ca: readCa(ctx, config.tls.ca) } : {}) };
    if (config.tls.fingerprint) options.caFingerprint = config.tls.fingerprint;
  }
  let client: Client;
  try {
    client = new Client(options);
  } catch (err) {
    throw new LoadError(`load.node: ${urls.reduce((t, u) => scrubUrl(t, u), redact((err as Error).message))}`, { details: { where: 'load.node', expected: 'https://host:9200' } });
  }
  return { client, server, scrub: (text) => urls.reduce((t, u) => scrubUrl(t, u), redact(text)) };
}

/** Status and Elasticsearch's error type/reason of a failed request, when it got an answer. */
export function responseOf(err: unknown): { status: number; type?: string; reason?: string; retryAfterMs?: number } | null {
  if (!(err instanceof errors.ResponseError)) return null;
  const body = err.meta.body as { error?: { type?: string; reason?: string } | string } | undefined;
  const error = typeof body?.error === 'object' ? body.error : undefined;
  const after = Number(err.meta.headers?.['retry-after']);
  return {
    status: err.meta.statusCode ?? 0,
    ...(error?.type ? { type: error.type } : {}),
    ...(error?.reason ? { reason: error.reason } : typeof body?.error === 'string' ? { reason: body.error } : {}),
    ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}),
  };
}

/**
 * Turns whatever the client threw into a LoadError that says what was being done, on which cluster, and
 * Elasticsearch's own error type and reason. Unreachable nodes, timeouts, 429 and 5xx are retryable;
 * bad credentials, a server that is not Elasticsearch, and 4xx answers are not.
 */
export function esFailure(err: unknown, doing: string, conn: Pick<Connection, 'server' | 'scrub'>): DatamillError {
  if (err instanceof DatamillError) return err;
  const where = conn.server;
  const r = responseOf(err);
  if (r) {
    const what = [r.type, r.reason].filter(Boolean).join(': ') || 'no error body';
    const hint =
      r.status === 401 ? '; check load.auth (the credentials were refused)'
      : r.status === 403 ? '; the credentials lack a privilege this needs'
      : r.status === 413 ? '; lower load.bulk.bytes below the cluster\'s http.max_content_length'
      : '';
    return new LoadError(conn.scrub(`${doing} on Elasticsearch at ${where} failed: HTTP ${r.status} ${what}${hint}`), {
      retryable: r.status === 429 || r.status >= 500,
      details: { where, status: r.status, type: r.type },
      cause: err,
    });
  }
  if (err instanceof errors.ProductNotSupportedError) {
    return new LoadError(`${doing}: the server at ${where} answered, but not as Elasticsearch (no "x-elastic-product: Elasticsearch" header); check load.node`, { details: { where, expected: 'an Elasticsearch 8 node' }, cause: err });
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) {
    return new LoadError(conn.scrub(`${doing}: cannot reach Elasticsearch at ${where}: ${(err as Error).message}`), { retryable: true, details: { where, expected: 'a reachable Elasticsearch node' }, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new LoadError(conn.scrub(`${doing} on Elasticsearch at ${where} failed: ${message}`), { details: { where }, cause: err });
}
