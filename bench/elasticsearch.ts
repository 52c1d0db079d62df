/**
 * `npm run bench:elasticsearch [-- --rows N] [--repeat R]`: the Elasticsearch sink's documents per second
 * against the in-repo stand-in (test/support/elasticsearch-standin/, its own process), next to the
 * stand-in's own raw _bulk rate: the same documents, pre-encoded into bodies of the same size, sent by a
 * minimal node:http client with the same concurrency. The ratio says what the sink costs over the
 * protocol's floor on this server; it is NOT a figure for a real cluster, which indexes far slower.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as esConfig, createSink } from '../adapters/elasticsearch/index.js';
import { bulkOptions } from '../adapters/elasticsearch/config.js';
import { documentEncoder } from '../adapters/elasticsearch/documents.js';
import type { Row, Schema } from '../src/core/schema.js';
import { bufferedInput } from '../test/adapters/typed-input.js';
import { seededRandom } from '../test/support/random.js';
import { testStageContext } from '../test/support/stage-context.js';

const arg = (name: string, fallback: number) => (process.argv.indexOf(name) > 0 ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const ROWS = arg('--rows', 200_000);
const REPEAT = arg('--repeat', 3);
const RESULTS = resolve('bench/results');
/** The same answer filter as the sink's, so both sides receive the same bytes. */
const FILTER = 'errors,items.*.status,items.*.result,items.*.error';
const STANDIN = fileURLToPath(new URL('../test/support/elasticsearch-standin/main.js', import.meta.url));

const SCHEMA: Schema = [
  { name: 'event_id', type: 'integer' },
  { name: 'ts', type: 'timestamp' },
  { name: 'site_id', type: 'integer' },
  { name: 'country', type: 'string' },
  { name: 'url', type: 'string' },
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
  { name: 'revenue', type: 'decimal' },
];

function makeRows(n: number): Row[] {
  const random = seededRandom(7);
  const countries = ['ES', 'FR', 'DE', 'US', 'GB', 'IT'];
  return Array.from({ length: n }, (_, i) => [i + 1, Date.UTC(2026, 0, 1) + i * 250, 1 + Math.floor(random() * 50), countries[i % 6]!, `/p/${Math.floor(random() * 1000)}?ref=${i % 97}`, Math.floor(random() * 20), Math.floor(random() * 5), (random() * 100).toFixed(2)]);
}

async function startStandin(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [STANDIN], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\S+)\n/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`stand-in exited with ${code}`)));
  });
  return { url, child };
}

async function call(url: string, method: string, path: string, body?: string, agent?: Agent): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${url}${path}`, { method, agent, headers: body === undefined ? {} : { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
    });
    req.once('error', fail);
    req.end(body);
  });
}

/** The floor: pre-built bodies, `concurrency` requests in flight, nothing else. */
async function rawBulk(url: string, index: string, bodies: string[], concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const r = await call(url, 'POST', `/${index}/_bulk?filter_path=${FILTER}`, bodies[next++]!, agent);
      if (r.status !== 200 || r.text.startsWith('{"errors":true')) throw new Error(`raw _bulk failed: ${r.status} ${r.text.slice(0, 300)}`);
    }
  }));
  agent.destroy();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** The raw client's bodies and the sink's buffered input, from the same rows (dropped before measuring). */
async function prepare(bytes: number) {
  const rows = makeRows(ROWS);
  const encode = documentEncoder(SCHEMA, { operation: 'index', key: ['event_id'], run: 'bench' });
  const bodies: string[] = [];
  let body = '';
  rows.forEach((row, i) => {
    const doc = encode(row, i + 1);
    if (doc.id === null) throw new Error(doc.reason);
    body += doc.text;
    if (body.length >= bytes) (bodies.push(body), (body = ''));
  });
  if (body) bodies.push(body);
  return { bodies, buffered: await bufferedInput(SCHEMA, rows, { run: 'bench', partRows: 100_000 }) };
}

async function main(): Promise<void> {
  const spec = esConfig.parse({ to: 'elasticsearch', node: 'http://placeholder', index: 'bench', key: ['event_id'] });
  const { bytes, concurrency } = bulkOptions(spec);
  const { bodies, buffered } = await prepare(bytes);
  const { url, child } = await startStandin();
  const rounds: Array<{ sink_seconds: number; raw_seconds: number; sink_docs_per_second: number; raw_docs_per_second: number; ratio: number }> = [];
  try {
    for (let round = 1; round <= REPEAT; round++) {
      await call(url, 'DELETE', '/bench-raw');
      await call(url, 'DELETE', '/bench');
      await call(url, 'PUT', '/bench-raw', JSON.stringify({ mappings: { properties: { event_id: { type: 'long' }, ts: { type: 'date' }, site_id: { type: 'long' }, country: { type: 'keyword' }, url: { type: 'text' }, views: { type: 'long' }, clicks: { type: 'long' }, revenue: { type: 'double' } } } }));
      const raw = await rawBulk(url, 'bench-raw', bodies, concurrency);
      const ctx = testStageContext({ stage: 'load', run: 'bench' });
      const t = process.hrtime.bigint();
      const result = await createSink(esConfig.parse({ to: 'elasticsearch', node: url, index: 'bench', key: ['event_id'] })).load(ctx, buffered.input);
      const sink = Number(process.hrtime.bigint() - t) / 1e9;
      if (result.rowsLoaded !== ROWS) throw new Error(`sink loaded ${result.rowsLoaded} of ${ROWS}`);
      const count = JSON.parse((await call(url, 'GET', '/bench/_count')).text) as { count: number };
      if (count.count !== ROWS) throw new Error(`the stand-in holds ${count.count} documents, expected ${ROWS}`);
      const r = { sink_seconds: +sink.toFixed(2), raw_seconds: +raw.toFixed(2), sink_docs_per_second: Math.round(ROWS / sink), raw_docs_per_second: Math.round(ROWS / raw), ratio: +(raw / sink).toFixed(2) };
      rounds.push(r);
      process.stderr.write(`round ${round}: sink ${r.sink_docs_per_second} docs/s, raw _bulk ${r.raw_docs_per_second} docs/s, sink/raw ${r.ratio}\n`);
    }
  } finally {
    child.kill('SIGTERM');
    buffered.cleanup();
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  const result = { date: new Date().toISOString(), node: process.version, documents: ROWS, bulk_bytes: bytes, concurrency, requests: bodies.length, rounds: rounds.length, median_round: median, all_rounds: rounds };
  process.stdout.write([
    `documents: ${ROWS.toLocaleString()} in ${bodies.length} _bulk requests of ~${(bytes / 1e6).toFixed(0)} MB, ${concurrency} in flight; ${rounds.length} rounds, the median:`,
    `stand-in raw _bulk (pre-encoded bodies, minimal client): ${median.raw_docs_per_second.toLocaleString()} docs/s`,
    `elasticsearch sink (buffered parts decoded, encoded, official client): ${median.sink_docs_per_second.toLocaleString()} docs/s`,
    `sink / raw: ${median.ratio}`,
  ].join('\n') + '\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `elasticsearch-${ROWS}.json`), JSON.stringify(result, null, 2) + '\n');
}

await main();
