import type { StageName } from '../buffer/manifest.js';

/** One stage attempt to run as an isolated task: the same `datamill stage …` command on any executor. */
export interface TaskSpec {
  run: string;
  stage: StageName;
  attempt: number;
  /** Arguments after `datamill` (starting with `stage`). */
  args: string[];
  env: Record<string, string>;
  resources: { cpus: number; memoryBytes: number };
  timeoutMs: number | null;
  /** Each line the task prints on stdout or stderr, as it comes. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void;
  /** For the resource pool: whose task (quotas) and how urgent (higher first); default tenant "default", priority 0. */
  tenant?: string;
  job?: string;
  priority?: number;
  /** Cancels the task, also while it still waits for the pool. */
  signal?: AbortSignal;
  /** A server shutting down: the task, if still waiting for the pool, never starts (a running one goes on). */
  drain?: AbortSignal;
}

export interface TaskExit {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Sampled by the executor (a task killed from outside cannot report its own). */
  usage: { peakRssBytes: number | null; cpuSeconds: number | null };
  /** Why the executor ended the task, when it knows better than an exit code (OOM kill, image pull, eviction). */
  failure?: { name: string; message: string; retryable: boolean };
  /** Killed by the kernel for going over its memory limit (containers: Docker's OOMKilled). */
  oomKilled?: boolean;
  /** The hard memory limit the task ran under, when the executor enforced one. */
  memoryLimitBytes?: number;
}

export interface TaskHandle {
  readonly id: string;
  wait(): Promise<TaskExit>;
  /**
   * Resolves once the task really runs, for a handle returned before that (a held process whose `go`
   * waits for the resource pool); absent when the task runs as soon as the handle exists.
   */
  readonly running?: Promise<void>;
  /** Stops the task: SIGTERM, then SIGKILL after a grace period. */
  cancel(): void;
}

/**
 * A task started ahead of time that has loaded its code and waits: `go` lets it run. The runtime prepares
 * the next stage while the current one works, hiding start-up time without starting it early: it reads
 * nothing until `go`, which comes only after the stage before it has committed.
 */
export interface PreparedTask {
  /** False when the process died while waiting: it must not count as an attempt. */
  alive(): boolean;
  go(task: TaskSpec): TaskHandle;
  /** Lets go of a task that was never started (a no-op after `go`). */
  discard(): void;
}

/** Runs tasks somewhere: a child process (here), a container or a Kubernetes Job (later). */
export interface Executor {
  readonly name: string;
  start(task: TaskSpec): Promise<TaskHandle>;
  /** Capability: start a task's process now and hold it until `go`. */
  prepare?(task: Pick<TaskSpec, 'run' | 'stage' | 'attempt' | 'args' | 'env' | 'resources'>): PreparedTask;
}
