import { constants } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import { DatamillError, SpecError } from '../../core/errors.js';
import type { TaskExit, TaskHandle } from '../executor.js';
import { engineName } from './docker-client.js';

/** One container to run to completion: what `docker run` would be given, plus the task's hooks. */
export interface ContainerRequest {
  image: string;
  cmd: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  cpus: number;
  memoryBytes: number;
  network: 'none' | 'host';
  /** `host:container[:ro]` bind mounts. */
  binds: string[];
  user: string;
  labels: Record<string, string>;
  timeoutMs: number | null;
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
}

const GRACE_SECONDS = 5;
const MAX_TIMER_MS = 2 ** 31 - 1;

function signalName(code: number): string | null {
  const n = code - 128;
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? null;
}

/** docker's errors carry the HTTP status; a missing image is the user's to fix, not worth a retry. */
function createError(err: unknown, req: ContainerRequest, docker: Docker): DatamillError {
  const status = (err as { statusCode?: number }).statusCode;
  const message = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  if (status === 404) return new SpecError(`image ${req.image} is not on the Docker engine (${engineName(docker)}): build it (docker build -t ${req.image} .) or pull/load it first`, { details: { where: 'image', value: req.image, expected: 'an image the engine has' } });
  return new DatamillError(`the Docker engine (${engineName(docker)}) refused to create a container of ${req.image}: ${message}`, { retryable: status === undefined || status >= 500, cause: err });
}

/** Streams a container's multiplexed stdout/stderr, line by line, into onLine; resolves when the stream ends. */
function pipeLogs(docker: Docker, raw: Readable, onLine: ContainerRequest['onLine']): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(raw, out, err);
  const done = Promise.all([out, err].map((s, i) => new Promise<void>((resolve) => {
    createInterface({ input: s }).on('line', (l) => onLine(l, i === 0 ? 'stdout' : 'stderr')).on('close', () => resolve());
  })));
  raw.on('end', () => (out.end(), err.end()));
  raw.on('error', () => (out.end(), err.end()));
  return done.then(() => undefined);
}

/** Samples memory (peak) and CPU time from the stats API while the container runs. */
function sampleStats(container: Docker.Container, usage: TaskExit['usage']): () => void {
  let stream: Readable | null = null;
  let stopped = false;
  container.stats({ stream: true }).then((s) => {
    stream = s as unknown as Readable;
    if (stopped) return stream.destroy();
    createInterface({ input: stream }).on('line', (line) => {
      try {
        const st = JSON.parse(line) as { memory_stats?: { max_usage?: number; usage?: number }; cpu_stats?: { cpu_usage?: { total_usage?: number } } };
        const mem = st.memory_stats?.max_usage ?? st.memory_stats?.usage;
        if (mem) usage.peakRssBytes = Math.max(usage.peakRssBytes ?? 0, mem);
        const cpu = st.cpu_stats?.cpu_usage?.total_usage;
        if (cpu) usage.cpuSeconds = cpu / 1e9;
      } catch {
        /* a partial line at the end of the stream */
      }
    });
    stream.on('error', () => undefined);
  }, () => undefined);
  return () => {
    stopped = true;
    stream?.destroy();
  };
}

/**
 * Creates, starts and follows one container: logs stream as they come, the exit code and OOMKilled come
 * from the engine, the container is removed afterwards whatever happened. Cancel or timeout: SIGTERM, then
 * SIGKILL after a grace period, then removal.
 */
export async function runContainer(docker: Docker, req: ContainerRequest): Promise<TaskHandle> {
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      Image: req.image, Cmd: req.cmd, ...(req.entrypoint ? { Entrypoint: req.entrypoint } : {}),
      Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`), User: req.user, Labels: req.labels,
      AttachStdout: false, AttachStderr: false, Tty: false, WorkingDir: '/tmp',
      HostConfig: {
        NanoCpus: Math.round(req.cpus * 1e9), Memory: req.memoryBytes, MemorySwap: req.memoryBytes,
        NetworkMode: req.network, ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev' }, Binds: req.binds,
        SecurityOpt: ['no-new-privileges'], CapDrop: ['ALL'], AutoRemove: false,
      },
    });
  } catch (err) {
    throw createError(err, req, docker);
  }
  const remove = () => container.remove({ force: true, v: true }).catch(() => undefined);
  const usage: TaskExit['usage'] = { peakRssBytes: null, cpuSeconds: null };
  let timedOut = false;
  let cancelled = false;
  let finished = false;
  const stop = () => {
    if (finished) return;
    container.kill({ signal: 'SIGTERM' }).catch(() => undefined);
    setTimeout(() => finished || container.kill({ signal: 'SIGKILL' }).catch(() => undefined), GRACE_SECONDS * 1000).unref();
  };
  try {
    await container.start();
  } catch (err) {
    await remove();
    throw createError(err, req, docker);
  }
  const stopStats = sampleStats(container, usage);
  const logs = container.logs({ follow: true, stdout: true, stderr: true }).then((raw) => pipeLogs(docker, raw as unknown as Readable, req.onLine), () => undefined);
  const timer = req.timeoutMs ? setTimeout(() => ((timedOut = true), stop()), Math.min(req.timeoutMs, MAX_TIMER_MS)) : undefined;
  timer?.unref();
  const exited = (async (): Promise<TaskExit> => {
    try {
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      finished = true;
      const state = (await container.inspect()).State;
      // The log stream ends shortly after the container; do not hang on an engine that never closes it.
      await Promise.race([logs, new Promise((r) => setTimeout(r, 5000).unref())]);
      const signal = StatusCode > 128 ? signalName(StatusCode) : null;
      return { code: signal ? null : StatusCode, signal, timedOut, cancelled, usage, oomKilled: state.OOMKilled === true, memoryLimitBytes: req.memoryBytes };
    } finally {
      finished = true;
      if (timer) clearTimeout(timer);
      stopStats();
      await remove();
    }
  })();
  exited.catch(() => undefined);
  return {
    id: container.id.slice(0, 12),
    wait: () => exited,
    cancel: () => {
      cancelled = true;
      stop();
    },
  };
}
