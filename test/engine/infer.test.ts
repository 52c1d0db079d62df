import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datamill, workspace } from '../support/cli.js';

test('infer samples a csv, sniffs its delimiter and prints adapt fields that load the file with no rejects', async () => {
  const ws = workspace();
  ws.write('orders.csv', ['Order ID;Placed At;Total;Paid;Note;Day', '1;2026-01-01T10:00:00Z;12.50;true;;2026-01-01', '2;2026-01-02 11:30:00;7.05;false;"a; b";2026-01-02', '3;2026-01-03T00:00:00+01:00;100.00;yes;x;2026-01-03'].join('\n') + '\n');
  const r = await datamill(['infer', 'orders.csv'], { cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /delimiter: ;/);
  assert.match(r.stdout, /order_id: \{ type: integer, from: Order ID, required: true \}/);
  assert.match(r.stdout, /placed_at: \{ type: timestamp, from: Placed At, required: true \}/);
  assert.match(r.stdout, /total: \{ type: decimal, from: Total, required: true \}/);
  assert.match(r.stdout, /paid: \{ type: boolean, from: Paid, required: true \}/);
  assert.match(r.stdout, /note: \{ type: string, from: Note \}/);
  assert.match(r.stdout, /day: \{ type: date, from: Day, required: true \}/);

  const job = ws.write('job.yaml', `job: inferred\n${r.stdout}load: { to: file, path: out.ndjson }\n`);
  const run = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(run.code, 0, run.stderr);
  const rows = readFileSync(join(ws.dir, 'out.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(rows[2], { order_id: 3, placed_at: '2026-01-02T23:00:00.000Z', total: '100.00', paid: true, note: 'x', day: '2026-01-03' });
});

test('infer reads ndjson keys and marks nested objects as json', async () => {
  const ws = workspace();
  ws.write('events.ndjson', '{"id": 1, "user": {"name": "a"}, "score": 1.5}\n{"id": 2, "user": {"name": "b"}, "score": null}\n');
  const r = await datamill(['infer', 'events.ndjson'], { cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /from: ndjson/);
  assert.match(r.stdout, /id: \{ type: integer, required: true \}/);
  assert.match(r.stdout, /user: \{ type: json, required: true \}/);
  assert.match(r.stdout, /score: number/);
});
