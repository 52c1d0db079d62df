import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config } from '../../adapters/postgres/index.js';
import { scrub, serverOf } from '../../adapters/postgres/client.js';
import { describeUrl } from '../../src/spec/secrets.js';

test('defaults are append mode and creating the table', () => {
  const c = config.parse({ to: 'postgres', connection: '${env:WAREHOUSE_URL}', table: 'analytics.site_stats' });
  assert.equal(c.mode, 'append');
  assert.equal(c.create, true);
  assert.equal(c.key, undefined);
});

test('upsert without a key is rejected with a message that asks for one', () => {
  const r = config.safeParse({ to: 'postgres', connection: 'x', table: 't', mode: 'upsert' });
  assert.equal(r.success, false);
  const issue = r.error!.issues[0]!;
  assert.deepEqual(issue.path, ['key']);
  assert.match(issue.message, /mode upsert needs key/);
});

test('a table name must be one or two dot-separated names', () => {
  for (const table of ['a.b.c', '.t', 's.', '', 'a..b']) {
    const r = config.safeParse({ to: 'postgres', connection: 'x', table });
    assert.equal(r.success, false, table);
  }
  assert.equal(config.safeParse({ to: 'postgres', connection: 'x', table: 'Odd Name' }).success, true);
});

test('unknown options are rejected', () => {
  const r = config.safeParse({ to: 'postgres', connection: 'x', table: 't', batch: 10 });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /batch/);
});

test('connection descriptions never show the password', () => {
  const url = 'postgres://loader:p%40ss-w0rd@db.internal:6543/warehouse?sslmode=require';
  assert.equal(serverOf(url), 'db.internal:6543/warehouse');
  assert.equal(serverOf('postgres://u@localhost/db'), 'localhost:5432/db');
  assert.ok(!describeUrl(url).includes('w0rd'));
  assert.match(describeUrl(url), /db\.internal:6543\/warehouse/);
  const scrubbed = scrub(`failed for ${url} with p@ss-w0rd and p%40ss-w0rd`, url);
  assert.ok(!scrubbed.includes('w0rd'), scrubbed);
});
