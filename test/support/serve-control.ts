import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SpecError } from '../../src/core/errors.js';
import { execContainer, type ExecRequest } from '../../src/exec/exec-container.js';
import { poolCapacity } from '../../src/pool/pool-capacity.js';
import { poolJson, type PoolView } from '../../src/pool/pool-snapshot.js';
import { ResourcePool } from '../../src/pool/resource-pool.js';
import { ProcessExecutor } from '../../src/runtime/process-executor.js';
import { runJob, type RunOptions } from '../../src/runtime/run-job.js';
import type { BrokenJobFile, JobView, ServeControl } from '../../src/serve/control.js';
import { loadJobFile, type LoadedJob } from '../../src/spec/load-job.js';
import { formatProblem } from '../../src/spec/problems.js';
import type { RunRecord, StateStore } from '../../src/state/store.js';

/**
 * A real ServeControl without a scheduler, for the API's tests: it loads the job files of a folder and
 * really runs them with runJob on the process executor (real stage processes, real logs, real store).
 * No `nextFireAt` is computed: schedules are the scheduler's business.
 */
export class FolderServeControl implements ServeControl {
  private readonly jobs = new Map<string, { file: string; job: LoadedJob }>();
  private readonly broken: BrokenJobFile[] = [];
  private readonly paused = new Set<string>();
  private readonly running = new Set<Promise<RunRecord>>();
  readonly resourcePool = new ResourcePool(poolCapacity());

  constructor(
    private readonly dir: string,
    private readonly store: StateStore,
    private readonly home: string,
    private readonly extra: Partial<Pick<RunOptions, 'onRunEnd'>> = {},
  ) {
    for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
      const { job, problems } = loadJobFile(join(dir, file));
      if (job) this.jobs.set(job.spec.job, { file, job });
      else this.broken.push({ file, problems: problems.map(formatProblem) });
    }
  }

  async listJobs(): Promise<JobView[]> {
    const out: JobView[] = [];
    for (const [name, { file, job }] of this.jobs) {
      const [last] = await this.store.listRuns({ job: name, limit: 1 });
      const s = job.spec.schedule as { cron?: string; every?: string; timezone?: string } | undefined;
      out.push({
        job: name, tenant: job.spec.tenant, file, description: job.spec.description ?? null, schedule: s?.cron ?? s?.every ?? null, timezone: s?.timezone ?? null,
        after: job.spec.after ?? [], paused: this.paused.has(name), nextFireAt: null, blocked: null,
        lastRun: last ? { id: last.id, status: last.status, slot: last.slot, createdAt: last.createdAt, finishedAt: last.finishedAt } : null,
      });
    }
    return out;
  }

  brokenFiles(): BrokenJobFile[] {
    return this.broken;
  }

  /** Resolves once runJob has recorded the run (its run-start event), like serve's trigger. */
  trigger(name: string, params: Record<string, string>): Promise<RunRecord> {
    const entry = this.jobs.get(name);
    if (!entry) return Promise.reject(new SpecError(`no job named '${name}'`));
    const { job } = loadJobFile(join(this.dir, entry.file), { params });
    if (!job) return Promise.reject(new SpecError(`job '${name}' does not load with these params`));
    return new Promise((resolve, reject) => {
      const done = runJob(job, {
        store: this.store, executor: new ProcessExecutor(), home: this.home, params, trigger: 'api', ...this.extra,
        onEvent: (e) => {
          if (e.type === 'run-start') resolve({ ...e.run });
        },
      });
      this.running.add(done);
      done.then(() => this.running.delete(done), reject);
    });
  }

  async pause(name: string): Promise<void> {
    if (!this.jobs.has(name)) throw new SpecError(`no job named '${name}'`);
    this.paused.add(name);
  }

  async resume(name: string): Promise<void> {
    if (!this.jobs.has(name)) throw new SpecError(`no job named '${name}'`);
    this.paused.delete(name);
  }

  pool(): PoolView {
    return poolJson(this.resourcePool);
  }

  /** A real container on the real Docker engine (DOCKER_HOST), like serve's. */
  exec(request: ExecRequest): Promise<RunRecord> {
    return new Promise((resolve, reject) => {
      const done = execContainer(request, { store: this.store, home: this.home, pool: this.resourcePool, onRunStart: resolve }).then(({ run }) => run);
      this.running.add(done);
      done.then(() => this.running.delete(done), (err: unknown) => (this.running.delete(done), reject(err as Error)));
    });
  }

  /** Waits for every run started through trigger to end. */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
