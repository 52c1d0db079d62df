import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { siteStatsJob, writeEvents } from '../engine/events-fixture.js';
import { expectedSiteStats } from '../engine/site-stats-sql.js';
import { containersLabelled, containerWorkspace, dockerJobExtra, engine, IMAGE, skip } from './docker-fixture.js';

interface Attempt { stage: string; attempt: number; status: string; executor: string; taskId: string; peakRssBytes: number | null; cpuSeconds: number | null }

async function actual(db: TestDatabase) {
  return db.query('SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2');
}

test('the demo job with executor docker runs every stage in a container of the project image and loads what the same SQL computes', { skip }, async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = containerWorkspace();
  const a = writeEvents(ws.dir, 'events-1.csv', { rows: 2000, start: 1, bad: 3 });
  const b = writeEvents(ws.dir, 'events-2.csv', { rows: 1500, start: 10_000 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'upsert', extra: dockerJobExtra() }));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const since = Math.floor(Date.now() / 1000) - 1;

  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const runId = /run (\S+) succeeded/.exec(r.stdout)![1]!;
  const expected = await expectedSiteStats(db, [a.path, b.path]);
  assert.ok(expected.length > 10);
  assert.deepEqual(await actual(db), expected);

  // The engine's own record: one container per stage, of the project's image, labelled with this run.
  const events = await engineEvents({ since, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ['container'], event: ['create'], label: [`datamill.run=${runId}`] } });
  assert.deepEqual(events.map((e) => e.Actor.Attributes['datamill.stage']), ['extract', 'adapt', 'transform', 'load']);
  assert.ok(events.every((e) => e.Actor.Attributes.image === IMAGE), JSON.stringify(events.map((e) => e.Actor.Attributes.image)));
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), [], 'every stage container is removed after its stage');

  const show = JSON.parse((await datamill(['show', runId, '--json'], { env, cwd: ws.dir })).stdout) as { attempts: Attempt[] };
  assert.deepEqual(show.attempts.map((x) => `${x.stage}:${x.status}:${x.executor}`), ['extract', 'adapt', 'transform', 'load'].map((s) => `${s}:succeeded:docker`));
  assert.ok(show.attempts.every((x) => /^[0-9a-f]{12}$/.test(x.taskId)), 'task ids are container ids');
  assert.ok(show.attempts.every((x) => x.peakRssBytes! > 10_000_000 && x.cpuSeconds! > 0), `each stage records its own memory and CPU: ${JSON.stringify(show.attempts)}`);
  const table = (await datamill(['show', runId], { env, cwd: ws.dir })).stdout;
  assert.match(table, /PEAK RSS\s+CPU s/);
  assert.match(table, /load\s+1\s+succeeded\s+.*MiB\s+[\d.]+\s+docker:[0-9a-f]{12}/);

  // Lines printed inside the containers reach the run's log, tagged with their stage and attempt.
  const logs = (await datamill(['logs', runId], { env, cwd: ws.dir })).stdout;
  assert.match(logs, /\[extract#1\] extracted 2 csv file\(s\)/);
  assert.match(logs, /\[adapt#1\] 3 rows rejected/);
  assert.match(logs, new RegExp(`\\[load#1\\] loaded ${expected.length} rows into analytics\\.site_stats \\(upsert\\)`));
});

test('the README example with executor docker writes the same file as with processes; an output folder the containers cannot write fails, saying so', { skip }, async () => {
  const ws = containerWorkspace();
  const examples = join(import.meta.dirname, '..', '..', '..', 'jobs', 'examples');
  cpSync(join(examples, 'data'), join(ws.dir, 'data'), { recursive: true });
  const example = readFileSync(join(examples, 'site-stats.yaml'), 'utf8');
  const job = (executor: string, out: string) => ws.write(`${executor}-${out}.yaml`, example.replace('path: ../../out/site-stats.csv', `path: ${out}/site-stats.csv`).replace(/^job: site-stats$/m, `job: site-stats\nexecutor: ${executor}\nimage: ${IMAGE}`));
  const env = { DATAMILL_HOME: ws.home };

  const inContainers = await datamill(['run', job('docker', 'out-docker')], { env, cwd: ws.dir });
  assert.equal(inContainers.code, 0, inContainers.stdout + inContainers.stderr);
  const inProcesses = await datamill(['run', job('process', 'out-process')], { env, cwd: ws.dir });
  assert.equal(inProcesses.code, 0, inProcesses.stdout + inProcesses.stderr);
  const written = readFileSync(join(ws.dir, 'out-docker/site-stats.csv'), 'utf8');
  assert.ok(written.split('\n').length > 5);
  assert.equal(written, readFileSync(join(ws.dir, 'out-process/site-stats.csv'), 'utf8'));

  if (process.getuid?.() !== 0) return;
  // out-process/ was made by the root `datamill` (0755): the containers' user cannot write into it.
  const refused = await datamill(['run', job('docker', 'out-process')], { env, cwd: ws.dir });
  assert.equal(refused.code, 1);
  assert.ok(refused.stderr.includes(`${join(ws.dir, 'out-process')} is mounted into the stage containers but their user 1000:1000 cannot write it (mode 0755, owner 0:0): chmod o+wx it`), refused.stderr);
});

test('the project image runs as a non-root user, on a read-only root filesystem with a writable /tmp', { skip }, async () => {
  const config = (await engine().getImage(IMAGE).inspect()).Config;
  assert.equal(config.User, '1000:1000');
  const ws = containerWorkspace();
  const r = await datamill(['exec', '--image', IMAGE, '--entrypoint', 'sh', '--', '-c', 'id -u; touch /app/x 2>&1 || true; touch /tmp/x && echo tmp-writable; node /app/dist/src/cli/main.js --version'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  // Run as root, Datamill gives containers the image's unprivileged user; otherwise the invoking one.
  const uid = process.getuid?.() ?? 0;
  assert.equal(lines[0], String(uid === 0 ? 1000 : uid));
  assert.match(lines[1]!, /Read-only file system/);
  assert.equal(lines[2], 'tmp-writable');
  assert.match(lines[3]!, /^\d+\.\d+\.\d+$/);
});

const asRoot = process.getuid?.() === 0 ? false : 'only as root: other users run their containers as themselves, who can read their own folders';

test('a job folder the containers cannot read fails before any container starts, naming the folder and the fix', { skip: skip || asRoot }, async () => {
  const ws = workspace(); // mkdtemp: 0700, root's
  writeEvents(ws.dir, 'events-1.csv', { rows: 10 });
  const job = ws.write('job.yaml', siteStatsJob({ extra: dockerJobExtra() }));
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await datamill(['run', job], { env: { WAREHOUSE_URL: 'postgres://unused@127.0.0.1:1/x', DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout + r.stderr;
  assert.ok(out.includes(`${ws.dir} is mounted into the stage containers but their user 1000:1000 cannot read it (mode 0700`), out);
  assert.match(out, /chmod o\+rx/);
  const runId = /run (\S+) failed/.exec(out)![1]!;
  assert.deepEqual(await engineEvents({ since, until: Math.ceil(Date.now() / 1000) + 1, filters: { type: ['container'], label: [`datamill.run=${runId}`] } }), []);
});

interface EngineEvent { Action: string; Actor: { ID: string; Attributes: Record<string, string> } }

/** The engine's events between two times (its /events API returns when `until` has passed). */
async function engineEvents(options: { since: number; until: number; filters: Record<string, string[]> }): Promise<EngineEvent[]> {
  const stream = (await engine().getEvents(options)) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as EngineEvent);
}
