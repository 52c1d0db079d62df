import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAW_READERS, SINKS, SOURCES } from '../../adapters/index.js';
import { RAW_READER_LOADERS, SINK_LOADERS, SOURCE_LOADERS } from '../../adapters/loaders.js';

test('the lazy connector loaders used by stage processes name the same connectors as the schema registry', async () => {
  assert.deepEqual(Object.keys(SOURCE_LOADERS).sort(), Object.keys(SOURCES).sort());
  assert.deepEqual(Object.keys(SINK_LOADERS).sort(), Object.keys(SINKS).sort());
  assert.deepEqual(Object.keys(RAW_READER_LOADERS).sort(), Object.keys(RAW_READERS).sort());
  for (const [name, load] of Object.entries(SOURCE_LOADERS)) assert.equal(await load(), SOURCES[name]!.createSource, name);
  for (const [name, load] of Object.entries(SINK_LOADERS)) assert.equal(await load(), SINKS[name]!.createSink, name);
});
