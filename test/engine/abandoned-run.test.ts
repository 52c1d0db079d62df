import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, datamill, workspace } from '../support/cli.js';
import { siteStatsJob, writeEvents } from './events-fixture.js';

test('a `datamill run` killed with SIGKILL is shown as interrupted, not running forever', async () => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 300_000 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }));
  const env = { ...process.env, DATAMILL_HOME: ws.home, WAREHOUSE_URL: 'postgres://127.0.0.1:1/x' };
  const child = spawn(process.execPath, [CLI, 'run', job], { cwd: ws.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('adapt: started')) child.kill('SIGKILL');
  });
  await once(child, 'close');
  assert.match(err, /adapt: started/);
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as Array<{ status: string; error: { name: string; message: string } }>;
  assert.equal(run!.status, 'interrupted');
  assert.equal(run!.error.name, 'RunnerDied');
  assert.match(run!.error.message, /died/);
});
