/**
 * The Docker engine and image of the container benchmarks: DOCKER_HOST's engine when set, else a private
 * dockerd on `.cache/dockerd` (the one the tests use; do not run both at once), with the project's
 * Dockerfile built on it as the tests build it (test/support/docker-images.ts).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDockerd } from '../test/support/docker-engine.js';
import { buildDatamillImage } from '../test/support/docker-images.js';

export interface BenchEngine {
  /** unix://… for DOCKER_HOST. */
  host: string;
  /** The project's image. */
  image: string;
  stop(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function benchEngine(): Promise<BenchEngine> {
  const own = process.env.DOCKER_HOST ? null : await startDockerd(join(root, '.cache', 'dockerd'));
  const host = process.env.DOCKER_HOST ?? own!.host;
  try {
    process.stderr.write(`building the image on ${host} (reused when its inputs did not change)…\n`);
    const { image } = buildDatamillImage(host, root);
    return { host, image, stop: async () => own?.stop() };
  } catch (err) {
    await own?.stop();
    throw err;
  }
}
