import type { Executor, PreparedTask, TaskExit, TaskHandle, TaskSpec } from '../runtime/executor.js';
import type { PoolLease, PoolRequest, ResourcePool } from './resource-pool.js';

/** Who the tasks are for when the task itself does not say (an executor made for one job). */
export interface PoolDefaults {
  tenant: string;
  job: string;
  /** The priority of a stage (job-wide or the stage's own). */
  priority(stage: string): number;
}

const NEVER_RAN: TaskExit = { code: null, signal: null, timedOut: false, cancelled: true, usage: { peakRssBytes: null, cpuSeconds: null } };

function requestOf(task: Pick<TaskSpec, 'run' | 'stage' | 'resources' | 'tenant' | 'job' | 'priority'>, defaults: PoolDefaults): PoolRequest {
  return {
    cpus: task.resources.cpus, memoryBytes: task.resources.memoryBytes,
    tenant: task.tenant ?? defaults.tenant, job: task.job ?? defaults.job, priority: task.priority ?? defaults.priority(task.stage),
    run: task.run, stage: task.stage,
  };
}

/** What ends a task's wait for the pool: its cancellation, or the server draining. */
function waitSignal(task: Pick<TaskSpec, 'signal' | 'drain'>): AbortSignal | undefined {
  if (task.signal && task.drain) return AbortSignal.any([task.signal, task.drain]);
  return task.signal ?? task.drain;
}

/** Gives the lease back when the task ends, however it ends. */
function holding(handle: TaskHandle, lease: PoolLease): TaskHandle {
  const exit = handle.wait().finally(() => lease.release());
  exit.catch(() => undefined);
  return { id: handle.id, wait: () => exit, cancel: () => handle.cancel() };
}

/**
 * Any executor behind the resource pool: a task starts on the inner executor only once the pool admits
 * its cpus/memory request, and gives them back when it exits. Tasks that can never fit are refused at
 * once (PoolError); a task cancelled while waiting never starts.
 */
export class PooledExecutor implements Executor {
  readonly name: string;
  readonly prepare?: Executor['prepare'];

  constructor(
    readonly inner: Executor,
    readonly pool: ResourcePool,
    private readonly defaults: PoolDefaults,
  ) {
    this.name = inner.name;
    if (inner.prepare) this.prepare = (task) => this.prepareHeld(task);
  }

  async start(task: TaskSpec): Promise<TaskHandle> {
    const lease = await this.pool.acquire(requestOf(task, this.defaults), waitSignal(task));
    try {
      return holding(await this.inner.start(task), lease);
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  /**
   * A held process costs no cpu while it waits for "go", so it is started outside the pool; its request is
   * admitted at `go`, at once when it fits, otherwise the handle waits for the pool before letting it run.
   */
  private prepareHeld(spec: Parameters<NonNullable<Executor['prepare']>>[0]): PreparedTask {
    const held = this.inner.prepare!(spec);
    return {
      alive: () => held.alive(),
      discard: () => held.discard(),
      go: (task) => {
        const request = requestOf(task, this.defaults);
        const lease = this.pool.tryAcquire(request);
        if (lease) return holding(held.go(task), lease);
        return this.waitThenGo(held, task, request);
      },
    };
  }

  private waitThenGo(held: PreparedTask, task: TaskSpec, request: PoolRequest): TaskHandle {
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    const outer = waitSignal(task);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let inner: TaskHandle | null = null;
    let admitted!: () => void;
    const running = new Promise<void>((resolve) => (admitted = resolve));
    const exit = (async (): Promise<TaskExit> => {
      let lease: PoolLease;
      try {
        lease = await this.pool.acquire(request, abort.signal);
      } catch (err) {
        held.discard();
        if (abort.signal.aborted) return NEVER_RAN;
        throw err;
      } finally {
        outer?.removeEventListener('abort', onOuterAbort);
      }
      // The held process may have died while the task waited: then start a fresh one.
      try {
        inner = held.alive() ? held.go(task) : await this.inner.start(task);
      } catch (err) {
        lease.release();
        throw err;
      }
      admitted();
      return holding(inner, lease).wait();
    })();
    exit.catch(() => undefined);
    return {
      get id() {
        return inner?.id ?? 'waiting-for-pool';
      },
      running,
      wait: () => exit,
      cancel: () => (inner ? inner.cancel() : abort.abort()),
    };
  }
}
