/**
 * The test command: starts one real PostgreSQL and one S3-compatible server (s3rver) for the whole suite, runs every compiled `*.test.js` with
 * node's test runner, stops the server, and exits with the runner's code.
 */
import { spawn } from 'node:child_process';
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
const needsDocker = files.some((f) => f.includes(`${join('test', 'docker')}`));
const engine = needsDocker && dockerdPath() ? await startDockerd(join(here, '..', '..', '.cache', 'dockerd')) : null;
if (engine) {
  env.DOCKER_HOST = engine.host;
  try {
    const built = buildDatamillImage(engine.host, join(here, '..', '..'));
    env.DATAMILL_TEST_IMAGE = built.image;
  } catch (err) {
    await engine.stop();
    throw err;
  }
} else if (needsDocker) env.DATAMILL_TEST_NO_DOCKER = 'dockerd is not installed (apt-get install -y docker.io; .ci/run does it)';
// No test may hang CI: one that runs past 10 minutes fails (tests that need longer say so themselves).
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], { stdio: 'inherit', env });
const stopAll = async () => {
  server?.stop();
  s3?.stop();
  await engine?.stop();
  rmSync(scratch, { recursive: true, force: true });
};
process.on('SIGINT', () => child.kill('SIGINT'));
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  void stopAll().finally(() => process.exit(code ?? (signal ? 1 : 0)));
});
