import { chmodSync } from 'node:fs';
import Docker from 'dockerode';
import { workspace } from '../support/cli.js';
import { RUNTIME_BASE } from '../support/docker-images.js';

/**
 * What the container tests share. `node dist/test/run.js test/docker` starts a private dockerd, builds the
 * project's Dockerfile on it and hands both in (DOCKER_HOST, DATAMILL_TEST_IMAGE); without dockerd it sets
 * DATAMILL_TEST_NO_DOCKER to the reason, and every test here skips saying so.
 */
export const skip: string | false = process.env.DATAMILL_TEST_NO_DOCKER
  ?? (process.env.DATAMILL_TEST_IMAGE ? false : 'DATAMILL_TEST_IMAGE is not set: run the docker tests through dist/test/run.js, which builds the image');

/** The project's image, built from the real Dockerfile. */
export const IMAGE = process.env.DATAMILL_TEST_IMAGE ?? 'datamill:test';
/** A small image with node, sh and coreutils (the Dockerfile's runtime base, imported from this host). */
export const SMALL_IMAGE = RUNTIME_BASE;

/** The same engine the `datamill` processes talk to (DOCKER_HOST). */
export function engine(): Docker {
  return new Docker();
}

/** Containers, running or not, carrying all these labels. */
export async function containersLabelled(labels: Record<string, string>): Promise<Docker.ContainerInfo[]> {
  return engine().listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
}

/**
 * A project folder the stage containers can read: mounted folders keep their mode, and a mkdtemp folder
 * (0700, root's) is closed to the containers' unprivileged user.
 */
export function containerWorkspace(): ReturnType<typeof workspace> {
  const ws = workspace();
  chmodSync(ws.dir, 0o755);
  return ws;
}

/** The demo job (events fixture) with every stage in a container of the project's image. */
export function dockerJobExtra(more = ''): string {
  return `executor: docker\nimage: ${IMAGE}\n${more}`;
}
