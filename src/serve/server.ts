import type winston from 'winston';
import { SpecError } from '../core/errors.js';
import type { ExecRequest } from '../exec/exec-container.js';
import { poolJson, type PoolView } from '../pool/pool-snapshot.js';
import type { ResourcePool } from '../pool/resource-pool.js';
import { runnerId } from '../runtime/orphans.js';
import type { RunOptions } from '../runtime/run-job.js';
import type { Clock } from '../schedule/clock.js';
import type { ScheduleStore } from '../schedule/schedule-store.js';
import { loadJobFile } from '../spec/load-job.js';
import type { RunRecord, StateStore } from '../state/store.js';
import type { BrokenJobFile, JobView, ServeControl } from './control.js';
import { blockedBy } from './dependencies.js';
import { JobFolder } from './job-folder.js';
import { recoverFires } from './recovery.js';
import { Scheduler } from './scheduler.js';

export interface ServeOptions {
  jobsDir: string;
  home: string;
  store: StateStore;
  fires: ScheduleStore;
  /** One executor for every job, or each job's own (its `executor:` behind `pool`). */
  executor: RunOptions['executor'];
  /** The one pool every task of this server goes through: stages of all jobs and `exec` containers. */
  pool: ResourcePool;
  clock: Clock;
  log: winston.Logger;
  /** How long the leader lease lasts without renewal (real time); a dead leader is replaced after it. */
  leaseTtlMs?: number;
  runOptions?: Partial<RunOptions>;
}

const LEASE = 'scheduler';

/**
 * `datamill serve` without its HTTP front: the watched jobs folder, the scheduler, leader election and
 * crash recovery. It is the ServeControl the HTTP API calls.
 */
export class DatamillServer implements ServeControl {
  readonly scheduler: Scheduler;
  private readonly folder: JobFolder;
  private readonly holder = `${runnerId()}:${Date.now().toString(36)}`;
  private leaseTimer: NodeJS.Timeout | null = null;
  /** The renewal under way, if any: a slow one is not queued behind (renewals would pile up). */
  private renewing: Promise<void> | null = null;
  /** Recovery after gaining the lead; it runs beside the renewals, never delaying them. */
  private recovering: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Cancels one-off containers still running when the server stops. */
  private readonly execs = new AbortController();

  constructor(private readonly o: ServeOptions) {
    this.scheduler = new Scheduler(o);
    this.folder = new JobFolder(o.jobsDir, (state) => {
      for (const b of state.broken) o.log.error(`job file ${b.file} is broken and skipped: ${b.problems.join('; ')}`, { file: b.file });
      o.log.info(`jobs folder changed: ${state.jobs.length} jobs, ${state.broken.length} broken files`);
      this.scheduler.setJobs(state.jobs);
    });
  }

  get isLeader(): boolean {
    return this.scheduler.isLeader;
  }

  async start(): Promise<void> {
    const state = await this.folder.start();
    for (const b of state.broken) this.o.log.error(`job file ${b.file} is broken and skipped: ${b.problems.join('; ')}`, { file: b.file });
    this.scheduler.setJobs(state.jobs);
    this.o.log.info(`serving ${state.jobs.length} jobs from ${this.o.jobsDir}${state.broken.length ? ` (${state.broken.length} broken files skipped)` : ''}`);
    const ttl = this.o.leaseTtlMs ?? 10_000;
    const renew = () => {
      this.renewing ??= this.renewLease(ttl).catch((err: unknown) => {
        this.o.log.error(`leader lease: ${(err as Error).message}`);
        if (this.scheduler.isLeader) this.scheduler.stopLeading();
      }).finally(() => (this.renewing = null));
      return this.renewing;
    };
    await renew();
    await this.recovering;
    this.leaseTimer = setInterval(() => void renew(), Math.max(100, Math.floor(ttl / 4)));
  }

  private async renewLease(ttlMs: number): Promise<void> {
    if (this.stopped) return;
    // Taken before asking: the database starts the lease's ttl later than this, never earlier.
    const asked = performance.now();
    const mine = await this.o.fires.acquireLease(LEASE, this.holder, ttlMs);
    if (this.stopped) return;
    // Some margin under the ttl for clock rates and the time between a check and the write it guards.
    if (mine) this.scheduler.leaseHeldUntil(asked + ttlMs * 0.75);
    if (mine && !this.scheduler.isLeader) {
      this.o.log.info(`this server (${this.holder}) leads the scheduler`);
      await this.scheduler.startLeading();
      this.recovering = this.recovering.then(() => this.recover());
    } else if (!mine && this.scheduler.isLeader) {
      this.o.log.warn('lost the scheduler lease; another server leads now');
      this.scheduler.stopLeading();
    } else if (mine) await this.scheduler.refreshPaused();
  }

  private async recover(): Promise<void> {
    try {
      const n = await recoverFires({ store: this.o.store, fires: this.o.fires, scheduler: this.scheduler, log: this.o.log });
      if (n > 0) this.o.log.info(`recovered ${n} fires left open by an earlier leader`);
    } catch (err) {
      this.o.log.error(`recovering open fires failed: ${(err as Error).message}; they are tried again when this server next gains the lead`);
    }
  }

  /** Stops firing, lets stages in flight finish for `graceMs`, records the rest as interrupted. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await this.renewing;
    await this.recovering;
    await this.folder.close();
    await this.scheduler.shutdown(graceMs);
    this.execs.abort();
    await this.o.fires.releaseLease(LEASE, this.holder).catch(() => undefined);
  }

  async listJobs(): Promise<JobView[]> {
    const out: JobView[] = [];
    for (const job of this.scheduler.jobs.values()) {
      const spec = job.loaded.spec;
      const [last] = await this.o.store.listRuns({ job: job.name, limit: 1 });
      const next = this.scheduler.nextFire(job.name);
      out.push({
        job: job.name, tenant: spec.tenant, file: job.file, description: spec.description ?? null,
        schedule: spec.schedule?.cron ?? spec.schedule?.every ?? null, timezone: spec.schedule?.timezone ?? null,
        after: job.after, paused: this.scheduler.paused.has(job.name), nextFireAt: next === null ? null : new Date(next).toISOString(),
        blocked: job.after.length ? await blockedBy(job, this.o.fires) : null,
        lastRun: last ? { id: last.id, status: last.status, slot: last.slot, createdAt: last.createdAt, finishedAt: last.finishedAt } : null,
      });
    }
    return out.sort((a, b) => a.job.localeCompare(b.job));
  }

  brokenFiles(): BrokenJobFile[] {
    return this.folder.state.broken;
  }

  async trigger(name: string, params: Record<string, string>): Promise<RunRecord> {
    const job = this.scheduler.jobs.get(name);
    if (!job) throw new SpecError(`no job named '${name}'`);
    const { job: loaded, problems } = loadJobFile(job.loaded.file, { params });
    if (!loaded) throw new SpecError(`job '${name}' does not load with these params: ${problems.map((p) => p.message).join('; ')}`);
    return this.scheduler.trigger(loaded, params, 'api');
  }

  async pause(name: string): Promise<void> {
    if (!this.scheduler.jobs.has(name)) throw new SpecError(`no job named '${name}'`);
    await this.scheduler.setPaused(name, true);
  }

  async resume(name: string): Promise<void> {
    if (!this.scheduler.jobs.has(name)) throw new SpecError(`no job named '${name}'`);
    await this.scheduler.setPaused(name, false);
  }

  pool(): PoolView {
    return poolJson(this.o.pool);
  }

  exec(request: ExecRequest): Promise<RunRecord> {
    if (this.stopped) return Promise.reject(new SpecError('the server is stopping: no new containers'));
    return new Promise<RunRecord>((resolve, reject) => {
      // dockerode is loaded only by servers that run containers.
      const done = import('../exec/exec-container.js').then(({ execContainer }) => execContainer(request, {
        store: this.o.store, home: this.o.home, pool: this.o.pool, signal: this.execs.signal,
        onRunStart: resolve,
      }));
      done.then(({ run }) => this.o.log.info(`exec run ${run.id} ${run.status}`, { run: run.id }), (err: unknown) => {
        this.o.log.error(`exec ${request.image}: ${(err as Error).message}`);
        reject(err as Error);
      });
    });
  }
}
