/**
 * `npm run bench:launch [-- --launches N]`: what it costs to start and reap a no-op stage on each
 * executor, p50 and p99 over N sequential launches (default 50). The no-op stage is `datamill --version`
 * in place of `datamill stage …`: the same program start-up on every executor, no stage work.
 *  - process: a child `node … main.js --version`, exit read, output drained (ProcessExecutor);
 *  - docker: the stage container as DockerExecutor makes it (mounts planned, read-only root, limits,
 *    labels), created → started → logs followed → exit and OOM state read → removed.
 * Also `node -e 0` bare and in a container of the base image, to tell program start-up from the
 * executor's own cost. The kinds take turns, launch by launch. Starts its own dockerd unless DOCKER_HOST is set (bench/docker-engine.ts). Prints a
 * table and saves bench/results/launch.json.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reapOnce } from '../src/runtime/docker/docker-executor.js';
import { runContainer } from '../src/runtime/docker/container-task.js';
import { dockerClient } from '../src/runtime/docker/docker-client.js';
import { stageContainerRequest } from '../src/runtime/docker/stage-container.js';
import type { TaskHandle, TaskSpec } from '../src/runtime/executor.js';
import { ProcessExecutor } from '../src/runtime/process-executor.js';
import type { JobSpec } from '../src/spec/job-schema.js';
import { RUNTIME_BASE } from '../test/support/docker-images.js';
import { benchEngine } from './docker-engine.js';

const arg = process.argv.indexOf('--launches');
const LAUNCHES = arg > 0 ? Number(process.argv[arg + 1]) : 50;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

type Launcher = (i: number) => Promise<TaskHandle> | 'sync';

/**
 * N rounds, each one launch of every kind in turn, awaited to its exit (and, for containers, its
 * removal): interleaved, so a shared machine's load changes hit every kind alike.
 */
async function time(kinds: Record<string, Launcher>): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  for (let i = 0; i < LAUNCHES; i++) {
    for (const [what, start] of Object.entries(kinds)) {
      const t = performance.now();
      const handle = start(i);
      if (handle !== 'sync') {
        const exit = await (await handle).wait();
        if (exit.code !== 0) throw new Error(`${what}: launch ${i} exited with ${exit.code ?? exit.signal}`);
      }
      times[what]!.push(performance.now() - t);
    }
    if ((i + 1) % 10 === 0) process.stderr.write(`${i + 1}/${LAUNCHES} rounds\n`);
  }
  return times;
}

const work = mkdtempSync(join(tmpdir(), 'datamill-bench-launch-'));
chmodSync(work, 0o755);
const engine = await benchEngine();
process.env.DOCKER_HOST = engine.host;
try {
  const spec = { job: 'bench-launch', tenant: 'default', buffer: 'file://buffer', extract: { from: 'postgres' }, load: { to: 'postgres' } } as unknown as JobSpec;
  const task = (i: number): TaskSpec => ({
    run: `launch-${i}`, stage: 'extract', attempt: 1,
    args: ['stage', '--buffer', `file://${work}/buffer`, '--base-dir', work, '--tenant', 'default', '--job', 'bench-launch', '--run', `launch-${i}`, '--stage', 'extract', '--attempt', '1'],
    env: {}, resources: { cpus: 1, memoryBytes: 512 * 1024 ** 2 }, timeoutMs: null, onLine: () => undefined,
  });
  const noop = (t: TaskSpec): TaskSpec => ({ ...t, args: ['--version'] });
  const docker = dockerClient();
  await reapOnce(docker);

  const processExecutor = new ProcessExecutor();
  const results = await time({
    'node -e 0, bare process': () => (spawnSync(process.execPath, ['-e', '0']), 'sync'),
    'process executor, no-op stage': (i) => processExecutor.start(noop(task(i))),
    'node -e 0 in a container': async (i) => {
      const request = await stageContainerRequest(spec, task(i), RUNTIME_BASE);
      return runContainer(docker, { ...request, cmd: ['node', '-e', '0'] });
    },
    'docker executor, no-op stage': async (i) => {
      const request = await stageContainerRequest(spec, task(i), engine.image);
      return runContainer(docker, { ...request, cmd: ['--version'] });
    },
  });
  const figures = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, { p50_ms: Math.round(pct(xs, 50)), p99_ms: Math.round(pct(xs, 99)), min_ms: Math.round(Math.min(...xs)), max_ms: Math.round(Math.max(...xs)) }]));
  console.log(`Launch overhead, start → exit → reaped, of a no-op stage (\`datamill --version\`), ${LAUNCHES} sequential launches each:`);
  console.log(`  ${'what'.padEnd(34)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`);
  for (const [what, f] of Object.entries(figures)) console.log(`  ${what.padEnd(34)} ${`${f.p50_ms} ms`.padStart(8)} ${`${f.p99_ms} ms`.padStart(8)} ${`${f.min_ms} ms`.padStart(8)} ${`${f.max_ms} ms`.padStart(8)}`);
  mkdirSync(resolve('bench/results'), { recursive: true });
  writeFileSync(resolve('bench/results/launch.json'), JSON.stringify({ launches: LAUNCHES, at: new Date().toISOString(), node: process.version, image: engine.image, results: figures }, null, 2) + '\n');
} finally {
  await engine.stop();
  rmSync(work, { recursive: true, force: true });
}
