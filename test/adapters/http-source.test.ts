import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CursorRange, ExtractResult } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import * as http from '../../adapters/http/index.js';
import { retryAfterMs } from '../../adapters/http/client.js';
import { nextLink } from '../../adapters/http/pagination.js';
import { sampleRecords, sendJson, startJsonApi, type Handler, type JsonApi } from '../support/json-api.js';
import { extractCommitted } from '../support/extract.js';

const TOKEN = 'tok-Secr3t-abc123';
process.env.TEST_HTTP_SOURCE_TOKEN = TOKEN;

interface Extracted {
  result: ExtractResult;
  records: Array<Record<string, unknown>>;
  logs: string;
}

/** Runs the http source through a real FileBuffer and reads the NDJSON part back. */
async function extract(config: Record<string, unknown>, range?: CursorRange): Promise<Extracted> {
  const source = http.createSource(http.config.parse({ from: 'http', ...config }));
  const { result, buffer, ref, logs } = await extractCommitted(source, range).catch((err: Error & { logs: unknown }) => {
    throw Object.assign(err, { logs: JSON.stringify(err.logs) });
  });
  const text = readFileSync(join(buffer.localPath(ref), result.parts[0]!.name), 'utf8');
  const records = text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, records, logs: JSON.stringify(logs) };
}

async function withApi(t: { after(fn: () => Promise<void>): void }, handle: Handler): Promise<JsonApi> {
  const api = await startJsonApi(handle);
  t.after(() => api.close());
  return api;
}

const fast = { request_retries: { attempts: 3, backoff: '10ms', max_backoff: '5s' } };
const ALL = sampleRecords(25);

test('page pagination reads every page in order, sends the auth header from a secret, and stops at the short page', async (t) => {
  const api = await withApi(t, (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return sendJson(res, 401, { error: 'unauthorized' });
    const page = Number(req.url.searchParams.get('page'));
    const size = Number(req.url.searchParams.get('per_page'));
    sendJson(res, 200, { data: { items: ALL.slice((page - 1) * size, page * size) }, page });
  });
  const { result, records, logs } = await extract({
    url: `${api.url}/v1/items`,
    params: { status: 'open' },
    headers: { Authorization: 'Bearer ${env:TEST_HTTP_SOURCE_TOKEN}' },
    records: 'data.items',
    pagination: { type: 'page', size_param: 'per_page', size: 10 },
  });
  assert.deepEqual(records, ALL);
  assert.deepEqual(api.requests.map((r) => r.url.search), ['?status=open&page=1&per_page=10', '?status=open&page=2&per_page=10', '?status=open&page=3&per_page=10']);
  assert.ok(api.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`), 'the server received the resolved token');
  assert.equal(result.format, 'ndjson');
  assert.equal(result.parts[0]!.rows, 25);
  assert.equal(result.figures!.pages, 3);
  assert.ok(!logs.includes(TOKEN), 'the token is not in any log line');
});

test('offset pagination advances by the records received until a page is short', async (t) => {
  const api = await withApi(t, (req, res) => {
    const offset = Number(req.url.searchParams.get('skip'));
    const limit = Number(req.url.searchParams.get('take'));
    sendJson(res, 200, ALL.slice(offset, offset + limit));
  });
  const { records } = await extract({ url: `${api.url}/items`, pagination: { type: 'offset', param: 'skip', limit_param: 'take', limit: 10 } });
  assert.deepEqual(records, ALL);
  assert.deepEqual(api.requests.map((r) => r.url.searchParams.get('skip')), ['0', '10', '20']);
});

test('cursor pagination follows the next cursor in the body until it is null', async (t) => {
  const api = await withApi(t, (req, res) => {
    const at = Number(req.url.searchParams.get('after') ?? 0);
    const next = at + 7 < ALL.length ? String(at + 7) : null;
    sendJson(res, 200, { results: ALL.slice(at, at + 7), meta: { next } });
  });
  const { records } = await extract({ url: `${api.url}/items`, records: 'results', pagination: { type: 'cursor', param: 'after', next: 'meta.next' } });
  assert.deepEqual(records, ALL);
  assert.deepEqual(api.requests.map((r) => r.url.searchParams.get('after')), [null, '7', '14', '21']);
});

test('link-header pagination follows rel="next" links, relative ones included, and keeps the headers', async (t) => {
  const api = await withApi(t, (req, res) => {
    const page = Number(req.url.searchParams.get('p') ?? 1);
    const links = [`<${api.url}/items?p=1>; rel="first"`];
    if (page < 3) links.push(page === 1 ? `<${api.url}/items?p=2>; rel="next"` : '</items?p=3>; rel="next"');
    sendJson(res, 200, ALL.slice((page - 1) * 10, page * 10), { link: links.join(', ') });
  });
  const { records } = await extract({ url: `${api.url}/items`, headers: { 'X-Api-Key': '${env:TEST_HTTP_SOURCE_TOKEN}' }, pagination: 'link-header' });
  assert.deepEqual(records, ALL);
  assert.deepEqual(api.requests.map((r) => r.url.search), ['', '?p=2', '?p=3']);
  assert.ok(api.requests.every((r) => r.headers['x-api-key'] === TOKEN));
});

test('a 429 with Retry-After is retried after the time the server asked for, then the pages continue', async (t) => {
  let calls = 0;
  const api = await withApi(t, (req, res) => {
    calls++;
    if (calls === 2) return sendJson(res, 429, { error: 'slow down' }, { 'retry-after': '1' });
    const page = Number(req.url.searchParams.get('page'));
    sendJson(res, 200, ALL.slice((page - 1) * 10, page * 10));
  });
  const { records, result } = await extract({ url: `${api.url}/items`, pagination: { type: 'page', size: 10 }, ...fast });
  assert.deepEqual(records, ALL);
  assert.equal(result.figures!.retries, 1);
  const [, throttled, retried] = api.requests;
  assert.equal(throttled!.url.searchParams.get('page'), retried!.url.searchParams.get('page'), 'the same page was asked again');
  assert.ok(retried!.at - throttled!.at >= 950, 'the retry waited for Retry-After (1 s), not the 10 ms backoff');
});

test('500s are retried with backoff; when they persist the error is retryable and names the URL and page but never the secret', async (t) => {
  const api = await withApi(t, (_req, res) => sendJson(res, 500, { error: 'internal' }));
  await assert.rejects(
    extract({ url: `${api.url}/items`, params: { api_key: '${env:TEST_HTTP_SOURCE_TOKEN}' }, pagination: 'page', ...fast }),
    (err: SourceError & { logs: string }) => {
      assert.ok(err instanceof SourceError);
      assert.equal(err.retryable, true);
      assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/items\?api_key=\$\{env:TEST_HTTP_SOURCE_TOKEN\} \(page 1: page=1\): HTTP 500 Internal Server Error/);
      assert.ok(!err.message.includes(TOKEN) && !err.logs.includes(TOKEN));
      return true;
    },
  );
  assert.equal(api.requests.length, 3, 'request_retries.attempts');
  assert.equal(api.requests[0]!.url.searchParams.get('api_key'), TOKEN, 'the server got the real key');
});

test('500s and then garbage: retried, then a non-retryable error naming the page and what was expected', async (t) => {
  let calls = 0;
  const api = await withApi(t, (req, res) => {
    calls++;
    if (calls <= 2) return sendJson(res, 503, { error: 'unavailable' });
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>Gateway says hello</body></html>');
  });
  await assert.rejects(extract({ url: `${api.url}/items`, records: 'data', ...fast }), (err: SourceError) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/items \(page 1\): the response is not JSON .*content-type text\/html.*"<html><body>Gateway says hello<\/body><\/html>"; expected a JSON document with an array of records at 'data' \(extract\.records\)/);
    return true;
  });
  assert.equal(api.requests.length, 3);
});

test('a page without the records path fails naming the path and what the page holds instead', async (t) => {
  const api = await withApi(t, (req, res) => {
    const page = Number(req.url.searchParams.get('page'));
    sendJson(res, 200, page === 1 ? { data: ALL.slice(0, 10) } : { error: { code: 'quota' }, message: 'quota exceeded' });
  });
  await assert.rejects(extract({ url: `${api.url}/items`, records: 'data', pagination: { type: 'page', size: 10 } }), (err: SourceError) => {
    assert.equal(err.retryable, false);
    assert.match(err.message, /\(page 2: page=2\): at 'data' there is nothing \(the response is an object with keys error, message\); expected a JSON document with an array of records at 'data'/);
    return true;
  });
});

test('a 401 is not retried and says to check the credentials', async (t) => {
  const api = await withApi(t, (_req, res) => sendJson(res, 401, { error: 'bad token' }));
  await assert.rejects(extract({ url: `${api.url}/items`, headers: { Authorization: 'Bearer ${env:TEST_HTTP_SOURCE_TOKEN}' }, ...fast }), (err: SourceError) => {
    assert.equal(err.retryable, false);
    assert.match(err.message, /HTTP 401 Unauthorized: "\{"error":"bad token"\}" \(check the credentials in extract\.headers/);
    return true;
  });
  assert.equal(api.requests.length, 1);
});

test('a server that does not answer within request_timeout fails with a retryable timeout', async (t) => {
  const api = await withApi(t, () => undefined);
  await assert.rejects(extract({ url: `${api.url}/slow`, request_timeout: '200ms', request_retries: { attempts: 2, backoff: '10ms' } }), (err: SourceError) => {
    assert.equal(err.retryable, true);
    assert.match(err.message, /\/slow \(page 1\): no complete response within 200 ms \(request_timeout\)/);
    return true;
  });
  assert.equal(api.requests.length, 2);
});

test('rate_limit spaces the requests', async (t) => {
  const api = await withApi(t, (req, res) => {
    const page = Number(req.url.searchParams.get('page'));
    sendJson(res, 200, page <= 4 ? [{ page }] : []);
  });
  await extract({ url: `${api.url}/items`, pagination: 'page', rate_limit: 10 });
  assert.equal(api.requests.length, 5);
  // Starts are 100 ms apart; arrivals can bunch by how late the first one's connection was, never by more than one spacing.
  const span = api.requests.at(-1)!.at - api.requests[0]!.at;
  assert.ok(span >= 300, `5 requests at 10 per second span at least 400 ms less one spacing (they spanned ${span} ms)`);
});

test('incremental: the mark is sent as a parameter, records at or below it are dropped, and the range is reported', async (t) => {
  const api = await withApi(t, (req, res) => {
    const since = req.url.searchParams.get('updated_since');
    // An inclusive "since", as many APIs have it: the record at the mark comes back again.
    sendJson(res, 200, { items: ALL.filter((r) => since === null || r.updated_at >= since) });
  });
  const config = { url: `${api.url}/items`, records: 'items', incremental: { field: 'updated_at', param: 'updated_since' } };
  const first = await extract(config, { from: null, to: null });
  assert.equal(first.records.length, 25);
  assert.deepEqual(first.result.cursor, { name: 'http:updated_at', from: null, to: ALL[24]!.updated_at });

  const mark = ALL[19]!.updated_at;
  const second = await extract(config, { from: mark, to: null });
  assert.equal(api.requests[1]!.url.searchParams.get('updated_since'), mark);
  assert.deepEqual(second.records.map((r) => r.id), [21, 22, 23, 24, 25]);
  assert.deepEqual(second.result.cursor, { name: 'http:updated_at', from: mark, to: ALL[24]!.updated_at });

  const replay = await extract(config, { from: mark, to: ALL[22]!.updated_at });
  assert.deepEqual(replay.records.map((r) => r.id), [21, 22, 23], 'a replay keeps to the range recorded');
});

test('the same next cursor twice stops with an error instead of looping', async (t) => {
  const api = await withApi(t, (_req, res) => sendJson(res, 200, { results: [{ a: 1 }], next_cursor: 'same' }));
  await assert.rejects(extract({ url: `${api.url}/items`, records: 'results', pagination: 'cursor' }), /the API returned the same next cursor twice \(same\)/);
  assert.equal(api.requests.length, 2);
});

test('Retry-After is read as seconds or as an HTTP date; Link headers give their rel="next" target', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  assert.equal(retryAfterMs('7', now), 7000);
  assert.equal(retryAfterMs('Mon, 01 Jun 2026 12:00:30 GMT', now), 30_000);
  assert.equal(retryAfterMs('soon', now), null);
  const here = new URL('https://api.example.com/v1/items?page=2');
  assert.equal(nextLink('<https://api.example.com/v1/items?page=1>; rel="prev", </v1/items?page=3>; rel="next"', here)?.href, 'https://api.example.com/v1/items?page=3');
  assert.equal(nextLink('<https://x.test/a>; rel="last"', here), null);
  assert.equal(nextLink('<https://x.test/b>; title="b"; rel=next', here)?.href, 'https://x.test/b');
});
