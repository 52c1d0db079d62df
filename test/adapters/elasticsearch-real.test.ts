import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { config as esConfig, createSink, type ElasticsearchSinkSpec } from '../../adapters/elasticsearch/index.js';
import type { LoadRejects } from '../../src/core/connector.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testStageContext } from '../support/stage-context.js';
import { bufferedInput } from './typed-input.js';

/**
 * The same behaviours as elasticsearch-sink.test.ts, against a REAL cluster. Opt-in: runs only when
 * ELASTICSEARCH_URL is set (with ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and
 * ELASTICSEARCH_PASSWORD, and ELASTICSEARCH_CA for a PEM file or ELASTICSEARCH_INSECURE=1). Every
 * index it makes is named datamill-test-<random>-… and deleted afterwards.
 */
const url = process.env.ELASTICSEARCH_URL;
const skip = url ? false : 'ELASTICSEARCH_URL is not set: these tests need a real Elasticsearch 8 cluster (the stand-in tests run instead)';

function spec(index: string, more: Partial<ElasticsearchSinkSpec> = {}): ElasticsearchSinkSpec {
  const env = process.env;
  return {
    to: 'elasticsearch',
    node: '${env:ELASTICSEARCH_URL}',
    index,
    ...(env.ELASTICSEARCH_API_KEY ? { auth: { api_key: '${env:ELASTICSEARCH_API_KEY}' } } : env.ELASTICSEARCH_USERNAME ? { auth: { username: env.ELASTICSEARCH_USERNAME, password: '${env:ELASTICSEARCH_PASSWORD}' } } : {}),
    ...(env.ELASTICSEARCH_CA || env.ELASTICSEARCH_INSECURE ? { tls: { ...(env.ELASTICSEARCH_CA ? { ca: env.ELASTICSEARCH_CA } : {}), verify: env.ELASTICSEARCH_INSECURE !== '1' } } : {}),
    ...more,
  };
}

function client(): Client {
  const env = process.env;
  return new Client({
    node: url!,
    ...(env.ELASTICSEARCH_API_KEY ? { auth: { apiKey: env.ELASTICSEARCH_API_KEY } } : env.ELASTICSEARCH_USERNAME ? { auth: { username: env.ELASTICSEARCH_USERNAME, password: env.ELASTICSEARCH_PASSWORD ?? '' } } : {}),
    ...(env.ELASTICSEARCH_INSECURE === '1' ? { tls: { rejectUnauthorized: false } } : {}),
  });
}

async function load(s: ElasticsearchSinkSpec, schema: Schema, rows: Row[], run: string) {
  const buffered = await bufferedInput(schema, rows, { run });
  const kept: Array<Record<string, unknown>> = [];
  const rejects: LoadRejects = { get rows() { return kept.length; }, add: async (r) => void kept.push(r) };
  try {
    return { result: await createSink(esConfig.parse(s)).load(testStageContext({ stage: 'load', run }), buffered.input, rejects), rejects: kept };
  } finally {
    buffered.cleanup();
  }
}

const SCHEMA: Schema = [{ name: 'id', type: 'integer' }, { name: 'site', type: 'string' }, { name: 'ts', type: 'timestamp' }];
const rows = (n: number, from = 1): Row[] => Array.from({ length: n }, (_, i) => [from + i, String(from + i), Date.UTC(2026, 0, 1) + i * 1000]);

test('real cluster: append, retry without duplicates, a mapping conflict kept as a reject, and replace with an alias swap', { skip }, async (t) => {
  const es = client();
  const prefix = `datamill-test-${randomBytes(4).toString('hex')}`;
  t.after(async () => {
    await es.indices.delete({ index: `${prefix}*` }, { ignore: [404] }).catch(() => {});
    await es.close();
  });

  const appended = `${prefix}-append`;
  await load(spec(appended, { key: ['id'] }), SCHEMA, rows(500), 'r1');
  await load(spec(appended, { key: ['id'] }), SCHEMA, rows(500), 'r1');
  assert.equal((await es.count({ index: appended })).count, 500);

  const conflict = `${prefix}-conflict`;
  const { result, rejects } = await load(spec(conflict, { key: ['id'], max_reject_ratio: 0.5, mappings: { properties: { site: { type: 'long' } } } }), SCHEMA, [[1, '12', 0], [2, 'abc', 0]], 'r2');
  assert.equal(result.rowsLoaded, 1);
  assert.equal(rejects.length, 1);
  assert.match(String(rejects[0]!.type), /mapper_parsing_exception|document_parsing_exception/);
  assert.match(String(rejects[0]!.reason), /failed to parse field \[site\] of type \[long\]/);

  const alias = `${prefix}-current`;
  await load(spec(alias, { mode: 'replace', key: ['id'] }), SCHEMA, rows(50), 'run-a');
  await load(spec(alias, { mode: 'replace', key: ['id'] }), SCHEMA, rows(20, 1000), 'run-b');
  const pointed = Object.keys(await es.indices.getAlias({ name: alias }));
  assert.deepEqual(pointed, [`${alias}-run-b`]);
  assert.equal((await es.count({ index: alias })).count, 20);
  assert.equal(await es.indices.exists({ index: `${alias}-run-a` }), false);
  const settings = await es.indices.getSettings({ index: `${alias}-run-b` });
  assert.notEqual(settings[`${alias}-run-b`]!.settings!.index!.refresh_interval, '-1');
});
