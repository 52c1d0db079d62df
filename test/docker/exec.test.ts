import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, datamill } from '../support/cli.js';
import { waitFor } from '../serve/serve-fixture.js';
import { containersLabelled, containerWorkspace, engine, skip, SMALL_IMAGE } from './docker-fixture.js';

interface RunRecord { id: string; job: string; trigger: string; status: string; figures: Record<string, number>; error: { name: string; message: string } | null; params: Record<string, string> }

test('exec exits with the container\'s exit code and is recorded as a run with its logs', { skip }, async () => {
  const ws = containerWorkspace();
  const env = { DATAMILL_HOME: ws.home };
  const failing = await datamill(['exec', '--image', SMALL_IMAGE, '--', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3'], { env, cwd: ws.dir });
  assert.equal(failing.code, 3, failing.stderr);
  assert.equal(failing.stdout, 'to-stdout\n');
  assert.match(failing.stderr, /^to-stderr\n/);
  assert.match(failing.stderr, /run \S+ failed \(exit code 3\)/);
  const ok = await datamill(['exec', '--image', SMALL_IMAGE, '--env', 'GREETING=hello', '--', 'sh', '-c', 'echo "$GREETING from $(id -u)"'], { env, cwd: ws.dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `hello from ${process.getuid?.() === 0 ? 1000 : process.getuid?.()}\n`);

  const runs = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as RunRecord[];
  assert.deepEqual(runs.map((r) => [r.job, r.trigger, r.status, r.figures.exit_code]), [['exec', 'exec', 'succeeded', 0], ['exec', 'exec', 'failed', 3]]);
  assert.equal(runs[1]!.error?.message, 'the container exited with code 3');
  assert.equal(runs[1]!.params.image, SMALL_IMAGE);
  const logs = (await datamill(['logs', runs[1]!.id], { env, cwd: ws.dir })).stdout;
  assert.match(logs, /INFO  \[exec#1\] to-stdout/);
  assert.match(logs, /WARN  \[exec#1\] to-stderr/);
  assert.deepEqual(await containersLabelled({ 'datamill.run': runs[1]!.id }), []);
});

test('exec streams output while the container runs, and a container killed from outside exits 137', { skip }, async () => {
  const ws = containerWorkspace();
  const child = spawn(process.execPath, [CLI, 'exec', '--image', SMALL_IMAGE, '--', 'sh', '-c', 'echo first-line; exec sleep 600'], { cwd: ws.dir, env: { ...process.env, DATAMILL_HOME: ws.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  await waitFor('the first line', () => stdout.includes('first-line\n'), 120_000);
  // Seen while the container still runs: the output is streamed, not handed over at the end.
  const running = await waitFor('the container', async () => (await containersLabelled({ 'datamill.job': 'exec' })).find((c) => c.State === 'running' && c.Command.includes('first-line')));
  await engine().getContainer(running.Id).kill();
  const [code] = (await exited) as [number];
  assert.equal(code, 137, stderr);
  assert.match(stderr, /run (\S+) failed \(exit code 137\)/);
  const runId = /run (\S+) failed/.exec(stderr)![1]!;
  const run = JSON.parse((await datamill(['show', runId, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as RunRecord & { attempts: Array<{ signal: string | null; exitCode: number }> };
  assert.equal(run.error?.message, 'the container was killed by SIGKILL');
  assert.deepEqual(run.attempts.map((a) => [a.signal, a.exitCode]), [['SIGKILL', 137]]);
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), []);
});

test('exec of a container over its memory limit exits 137 and says it ran out of memory at that limit', { skip }, async () => {
  const ws = containerWorkspace();
  const env = { DATAMILL_HOME: ws.home };
  // Buffers live outside the JS heap: the kernel's limit is what stops them.
  const r = await datamill(['exec', '--image', SMALL_IMAGE, '--memory', '48Mi', '--', 'node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'], { env, cwd: ws.dir });
  assert.equal(r.code, 137, r.stderr);
  assert.match(r.stderr, /datamill: the container ran out of memory: killed by the kernel at its limit of 48\.0 MiB \(--memory\)/);
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as RunRecord[];
  assert.equal(run!.error?.name, 'OutOfMemory');
  assert.equal(run!.figures.exit_code, 137);
});
