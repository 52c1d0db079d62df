import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJob } from '../../src/spec/load-job.js';
import { jobJsonSchemaText } from '../../src/spec/json-schema.js';
import { formatProblem } from '../../src/spec/problems.js';
import { datamill, workspace } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';

const GOOD = `job: demo
extract:
  from: csv
  path: data/*.csv
adapt:
  fields:
    id: { type: integer, required: true }
    views: integer
    country: string
transform:
  - filter: "views > 0"
  - derive: { ratio: "views / 2" }
load:
  to: postgres
  connection: "\${env:WAREHOUSE_URL}"
  table: public.t
  mode: upsert
  key: [id]
`;

function problems(text: string): string[] {
  return parseJob(text, 'job.yaml', '/tmp', {}).problems.map(formatProblem);
}

test('a valid job has no problems and gets its defaults', () => {
  const { job, problems: p } = parseJob(GOOD, 'job.yaml', '/tmp', {});
  assert.deepEqual(p, []);
  assert.equal(job!.spec.tenant, 'default');
  assert.equal(job!.spec.buffer, 'file://.datamill/buffer');
  assert.equal(job!.spec.adapt.on_invalid, 'reject');
});

test('a typo in a key names the file, line, YAML path and the key it probably meant', () => {
  const p = problems(GOOD.replace('  table: public.t', '  tabel: public.t'));
  assert.ok(p.some((l) => /^job\.yaml:16:\d+: load\.tabel: unknown key 'tabel'; did you mean 'table'\?/.test(l)), p.join('\n'));
});

test('a bad enum value shows the value and the allowed ones', () => {
  const p = problems(GOOD.replace('mode: upsert', 'mode: upsrt'));
  assert.ok(p.some((l) => l.startsWith('job.yaml:17:9: load.mode: invalid value "upsrt"; expected one of append | replace | upsert')), p.join('\n'));
});

test('an unknown transform is reported at its line with the known ones', () => {
  const p = problems(GOOD.replace('- filter:', '- fliter:'));
  assert.ok(p.some((l) => /^job\.yaml:11:\d+: transform\[0\]\.fliter: unknown transform 'fliter'; did you mean 'filter'\?; known transforms: .*filter/.test(l)), p.join('\n'));
});

test('a broken expression is reported at validate time with its column', () => {
  const p = problems(GOOD.replace('"views > 0"', '"views >"'));
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0]!, /^job\.yaml:11:\d+: transform\[0\]\.filter: unexpected end of expression at column 8/);
  const q = problems(GOOD.replace('"views > 0"', '"vews > 0"'));
  assert.match(q[0]!, /unknown column 'vews'.*views/);
});

test('an unknown source and a missing section are both reported, not just the first problem', () => {
  const p = problems(GOOD.replace('from: csv', 'from: cvs').replace(/adapt:[\s\S]*?transform:/, 'transform:'));
  assert.ok(p.some((l) => /extract\.from: unknown source "cvs"; did you mean 'csv'\?/.test(l)), p.join('\n'));
  assert.ok(p.some((l) => /adapt: missing/.test(l)), p.join('\n'));
});

test('broken YAML gives the line and column of the syntax error', () => {
  const p = problems('job: demo\nextract:\n  from: csv\n   path: x\n');
  assert.match(p[0]!, /^job\.yaml:[34]:\d+: \(yaml\): Nested mappings are not allowed in compact mappings$/);
});

test('an upsert key that is not a loaded column is a validation error', () => {
  const p = problems(GOOD.replace('key: [id]', 'key: [id, nope]'));
  assert.ok(p.some((l) => /load\.key\[1\]: key column 'nope' is not in the rows being loaded/.test(l)), p.join('\n'));
});

test('${param:…} references are filled from params and --param, and an unknown one is an error', () => {
  const withParam = GOOD.replace('path: data/*.csv', 'path: "data/${param:day}.csv"');
  const { job } = parseJob(withParam, 'job.yaml', '/tmp', { day: '2026-01-01' });
  assert.equal(job!.spec.extract.path, 'data/2026-01-01.csv');
  assert.ok(problems(withParam).some((l) => /extract\.path: unknown parameter 'day'/.test(l)));
});

test('datamill validate prints every problem and exits 2', async () => {
  const ws = workspace();
  const file = ws.write('bad.yaml', GOOD.replace('mode: upsert', 'mode: upsrt').replace('  table: public.t', '  tabel: public.t'));
  const r = await datamill(['validate', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:17:9: load\.mode: invalid value "upsrt"/);
  assert.match(r.stderr, /bad\.yaml:16:\d+: load\.tabel: unknown key 'tabel'; did you mean 'table'\?/);
});

test('the committed JSON Schema of the job format is the one generated from the zod schema', () => {
  const committed = readFileSync(join(repoRoot(), 'docs/job.schema.json'), 'utf8');
  assert.equal(committed, jobJsonSchemaText(), 'run `npm run schema` and commit docs/job.schema.json');
  const schema = JSON.parse(committed) as { properties: Record<string, unknown> };
  assert.ok(['job', 'extract', 'adapt', 'transform', 'load', 'schedule'].every((k) => k in schema.properties));
});

test('every example job in jobs/ validates', async () => {
  const r = await datamill(['validate', join(repoRoot(), 'jobs/examples')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const name of ['site-stats.yaml', 'orders-incremental.yaml', 'production/orders-api-to-elasticsearch.yaml', 'production/customers-orders-to-redshift.yaml']) {
    assert.match(r.stdout, new RegExp(`jobs/examples/${name.replace('.', '\\.')}: ok`), `${name} is among the files validated`);
  }
});

test('a value that is a whole ${param:…} takes the parameter as a number or boolean when it looks like one', () => {
  const text = GOOD.replace('    country: string\n', '    country: string\n  max_reject_ratio: ${param:ratio}\n');
  const { job, problems: p } = parseJob(text, 'job.yaml', '/tmp', { ratio: '0.25' });
  assert.deepEqual(p, []);
  assert.equal(job!.spec.adapt.max_reject_ratio, 0.25);
});

test('YAML anchors and merge keys work in job files', () => {
  const text = GOOD.replace('extract:\n  from: csv\n  path: data/*.csv', 'x-src: &src\n  from: csv\nextract:\n  <<: *src\n  path: data/*.csv');
  const { job, problems: p } = parseJob(text, 'job.yaml', '/tmp', {});
  assert.deepEqual(p.map(formatProblem), []);
  assert.equal(job!.spec.extract.from, 'csv');
});

test('a broken derived column is reported at its own line, not the derive step', () => {
  const text = GOOD.replace('  - derive: { ratio: "views / 2" }', '  - derive:\n      ratio: "views / 2"\n      bad: "views + nope"');
  const p = problems(text);
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0]!, /^job\.yaml:14:\d+: transform\[1\]\.derive\.bad: unknown column 'nope'/);
});
