/**
 * The test command: starts one real PostgreSQL, one S3-compatible server (s3rver) and, for test/docker/, a
 * private dockerd for the whole suite; runs every compiled `*.test.js` with node's test runner (the container
 * tests last, once the image is built); stops them all and exits non-zero if anything failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './support/postgres-server.js';
import { s3Env, startS3 } from './support/s3-server.js';
import { dockerdPath, startDockerd } from './support/docker-engine.js';
import { buildDatamillImage } from './support/docker-images.js';

const here = dirname(fileURLToPath(import.meta.url));

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'support' ? [] : findTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = findTests(here).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p))).sort();
const server = process.env.DATAMILL_TEST_PG_URL ? null : await startPostgres();
const s3 = process.env.DATAMILL_TEST_S3_ENDPOINT ? null : await startS3();
// Every temp file the tests (and the datamill processes they start) make goes under one folder,
// removed at the end, so repeated runs leave nothing behind in /tmp.
const scratch = mkdtempSync(join(tmpdir(), 'datamill-test-'));
const env: NodeJS.ProcessEnv = { ...process.env, ...(s3 ? s3Env(s3.endpoint) : {}), TMPDIR: scratch, DATAMILL_TEST_PG_URL: process.env.DATAMILL_TEST_PG_URL ?? server!.url };
// A private Docker engine for the container tests (test/docker/), its images kept in .cache/dockerd
// between runs; the project's image is built once per change of its inputs. Without dockerd they skip.
const isDockerTest = (f: string) => f.includes(join('test', 'docker'));
const dockerFiles = files.filter(isDockerTest);
const otherFiles = files.filter((f) => !isDockerTest(f));
const engine = dockerFiles.length > 0 && dockerdPath() ? await startDockerd(join(here, '..', '..', '.cache', 'dockerd')) : null;
if (engine) env.DOCKER_HOST = engine.host;
else if (dockerFiles.length > 0) env.DATAMILL_TEST_NO_DOCKER = 'dockerd is not installed (apt-get install -y docker.io; .ci/run does it)';

let current: ChildProcess | null = null;
/** One node:test run over `list`; no test may hang CI: one past 10 minutes fails (tests needing longer say so). */
function runTests(list: string[], runEnv: NodeJS.ProcessEnv): Promise<number> {
  if (list.length === 0) return Promise.resolve(0);
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...list], { stdio: 'inherit', env: runEnv });
  current = child;
  return new Promise((done) => child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0))));
}
process.on('SIGINT', () => current?.kill('SIGINT'));
process.on('SIGTERM', () => current?.kill('SIGTERM'));

let code = 1;
try {
  // The rest of the suite runs while the project's image builds from its Dockerfile (minutes on a clean
  // machine: npm ci and a native build inside); the container tests run once both are done.
  const others = runTests(otherFiles, env);
  let buildError: unknown = null;
  if (engine) {
    try {
      env.DATAMILL_TEST_IMAGE = buildDatamillImage(engine.host, join(here, '..', '..')).image;
    } catch (err) {
      buildError = err;
    }
  }
  const first = await others;
  if (buildError) {
    process.stderr.write(`the Datamill image did not build from the Dockerfile: ${(buildError as Error).message}\n`);
    code = 1;
  } else code = Math.max(first, await runTests(dockerFiles, env));
} finally {
  server?.stop();
  s3?.stop();
  await engine?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(code);
