import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import type { JobSpec } from '../../spec/job-schema.js';
import type { Executor, TaskHandle, TaskSpec } from '../executor.js';
import { reapOrphanContainers } from './container-orphans.js';
import { runContainer } from './container-task.js';
import { dockerClient } from './docker-client.js';
import { stageContainerRequest, stageImage } from './stage-container.js';

let version: string | null = null;
/** This Datamill's version: the default image is `datamill:<version>`. */
export function datamillVersion(): string {
  version ??= (JSON.parse(readFileSync(fileURLToPath(new URL('../../../../package.json', import.meta.url)), 'utf8')) as { version: string }).version;
  return version;
}

const reaped = new WeakSet<Docker>();

/** Reaps the orphans of dead runners once per engine per process, before the first container starts. */
export async function reapOnce(docker: Docker): Promise<void> {
  if (reaped.has(docker)) return;
  reaped.add(docker);
  await reapOrphanContainers(docker).catch(() => undefined);
}

/** Each stage in its own container on a Docker engine (DESIGN §4: the same `datamill stage …` command). */
export class DockerExecutor implements Executor {
  readonly name = 'docker';

  constructor(
    private readonly spec: JobSpec,
    readonly docker: Docker = dockerClient(),
  ) {}

  async start(task: TaskSpec): Promise<TaskHandle> {
    await reapOnce(this.docker);
    const request = await stageContainerRequest(this.spec, task, stageImage(this.spec, task.stage, datamillVersion()));
    return runContainer(this.docker, request);
  }
}

export function createDockerExecutor(spec: JobSpec, docker?: Docker): Executor {
  return new DockerExecutor(spec, docker);
}
