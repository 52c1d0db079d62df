import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SINK_CONFIG_BY_NAME, SOURCE_CONFIG_BY_NAME } from '../../adapters/index.js';
import { RAW_READER_LOADERS, SINK_LOADERS, SOURCE_LOADERS } from '../../adapters/loaders.js';
import * as csv from '../../adapters/csv/index.js';
import * as elasticsearch from '../../adapters/elasticsearch/index.js';
import * as file from '../../adapters/file/index.js';
import * as http from '../../adapters/http/index.js';
import * as ndjson from '../../adapters/ndjson/index.js';
import * as postgres from '../../adapters/postgres/index.js';
import * as s3 from '../../adapters/s3/index.js';
import * as redshift from '../../adapters/redshift/index.js';

test('every connector the schema accepts has its code behind a loader, and each loader loads that connector', async () => {
  assert.deepEqual(Object.keys(SOURCE_LOADERS).sort(), Object.keys(SOURCE_CONFIG_BY_NAME).sort());
  assert.deepEqual(Object.keys(SINK_LOADERS).sort(), Object.keys(SINK_CONFIG_BY_NAME).sort());
  const sources = { csv, ndjson, http, s3, postgres: { config: postgres.sourceConfig, createSource: postgres.createSource } } as Record<string, { config: unknown; createSource: unknown; reader?: unknown }>;
  const sinks = { postgres, file, elasticsearch, redshift } as Record<string, { config: unknown; createSink: unknown }>;
  for (const [name, load] of Object.entries(SOURCE_LOADERS)) {
    assert.equal(await load(), sources[name]!.createSource, name);
    assert.equal(SOURCE_CONFIG_BY_NAME[name], sources[name]!.config, name);
  }
  for (const [name, load] of Object.entries(SINK_LOADERS)) {
    assert.equal(await load(), sinks[name]!.createSink, name);
    assert.equal(SINK_CONFIG_BY_NAME[name], sinks[name]!.config, name);
  }
  assert.equal(await RAW_READER_LOADERS.csv(), csv.reader);
  assert.equal(await RAW_READER_LOADERS.ndjson(), ndjson.reader);
});
