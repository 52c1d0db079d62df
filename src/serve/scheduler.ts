import type winston from 'winston';
import { serverFaultPoint } from '../core/faults.js';
import { replayRun, restartRun, runJob, type RunOptions } from '../runtime/run-job.js';
import type { Clock } from '../schedule/clock.js';
import { jobForSlot, type ScheduledJob } from '../schedule/scheduled-job.js';
import type { LoadedJob } from '../spec/load-job.js';
import { slotKey, type FireRecord, type FireStatus, type ScheduleStore } from '../schedule/schedule-store.js';
import type { StageName } from '../buffer/manifest.js';
import type { RunRecord, StateStore } from '../state/store.js';
import { dependentSlots, newFire, readiness } from './dependencies.js';

/** At most this many missed slots per job are recorded one by one as skipped; beyond, a count is logged. */
const MAX_SKIPPED_RECORDS = 1000;

export interface SchedulerOptions {
  store: StateStore;
  fires: ScheduleStore;
  /** One executor for every job, or the executor of each job (its `executor:` behind the server's pool). */
  executor: RunOptions['executor'];
  home: string;
  clock: Clock;
  log: winston.Logger;
  /** Passed to every run (e.g. a notifier's hooks). */
  runOptions?: Partial<RunOptions>;
}

interface ActiveRun {
  slot: string | null;
  runId: string | null;
  /** Cancels the run now (replace, or the end of the shutdown grace period). */
  abort: AbortController;
  done: Promise<RunRecord | null>;
}

/**
 * Fires jobs at their slots while this process leads. Every fire is claimed in the ScheduleStore under
 * (job, slot) before its run starts, so a second scheduler or a restarted one never fires a slot twice.
 */
export class Scheduler {
  jobs = new Map<string, ScheduledJob>();
  paused = new Set<string>();
  private readonly next = new Map<string, number | null>();
  private readonly firstSeen = new Map<string, string>();
  private readonly active = new Map<string, ActiveRun[]>();
  /** Claimed fires waiting for the job's previous run (concurrency: forbid, catch-up oldest first). */
  private readonly queued = new Map<string, FireRecord[]>();
  private timer: NodeJS.Timeout | null = null;
  private leading = false;
  /** Until when (performance.now()) the leader lease is known to be ours; nothing new starts past it. */
  private leaseUntil = Infinity;
  private ticking: Promise<void> = Promise.resolve();
  private readonly drain = new AbortController();

  constructor(private readonly o: SchedulerOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * The lease was confirmed, and holds until `until` (performance.now() ms) unless renewed again. A
   * leader whose renewal is late (a stalled event loop, a slow database) stops firing and starting runs
   * before another server can take the lease over, so the two never start the same slot.
   */
  leaseHeldUntil(until: number): void {
    this.leaseUntil = until;
  }

  /** Whether this scheduler may claim fires and start runs now; a lapsed lease ends the leadership. */
  private mayStart(): boolean {
    if (this.leading && performance.now() >= this.leaseUntil) {
      this.o.log.warn('the leader lease was not renewed in time; no new fires or runs until it is');
      this.stopLeading();
    }
    return this.leading;
  }

  /** Whether this process runs (or queued) the fire: recovery must not start it a second time. */
  owns(job: string, slot: string): boolean {
    return (this.active.get(job) ?? []).some((a) => a.slot === slot) || (this.queued.get(job) ?? []).some((f) => f.slot === slot);
  }

  /** Replaces the job set (the folder watcher calls this on every change). */
  setJobs(jobs: ScheduledJob[]): void {
    const byName = new Map(jobs.map((j) => [j.name, j]));
    for (const [name, old] of this.jobs) {
      const now = byName.get(name);
      // A changed schedule is recomputed from the last fire; an unchanged one keeps its place.
      if (!now || now.schedule?.text !== old.schedule?.text || now.schedule?.timezone !== old.schedule?.timezone) this.next.delete(name);
    }
    this.jobs = byName;
    this.wake();
  }

  async startLeading(): Promise<void> {
    if (this.leading || this.drain.signal.aborted) return;
    this.leading = true;
    this.paused = await this.o.fires.pausedJobs();
    this.next.clear();
    this.wake();
  }

  stopLeading(): void {
    this.leading = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Queued fires stay "fired" in the store: the next leader (maybe this one again) recovers them.
    this.queued.clear();
  }

  /** Re-plans now: jobs changed, a run ended, or leadership was gained. */
  wake(): void {
    if (!this.leading) return;
    this.ticking = this.ticking.then(() => this.tick()).catch((err: unknown) => {
      this.o.log.error(`scheduler tick failed: ${(err as Error).message}`);
    });
  }

  private async tick(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.mayStart()) return;
    const now = this.o.clock.now();
    const due: Array<{ job: ScheduledJob; fires: FireRecord[] }> = [];
    for (const job of this.jobs.values()) {
      if (!job.schedule || this.paused.has(job.name)) continue;
      const fires = await this.dueFires(job, now);
      if (fires.length > 0) due.push({ job, fires });
    }
    if (!this.mayStart()) return;
    const claimed = await this.o.fires.claimFires(due.flatMap((d) => d.fires));
    if (claimed.length > 0) serverFaultPoint('fire-claimed');
    const won = new Set(claimed.map((f) => `${f.job}\u0000${f.slot}`));
    for (const { job, fires } of due) {
      const mine = fires.filter((f) => won.has(`${f.job}\u0000${f.slot}`));
      for (const f of mine) if (f.status === 'skipped') this.o.log.warn(`${job.name}: slot ${f.slot} skipped: ${f.reason}`, { job: job.name, slot: f.slot });
      await this.dispatch(job, mine.filter((f) => f.status !== 'skipped'));
    }
    this.arm();
  }

  /** The fires due for a job at `now`: slots since its last one, older than catchup recorded as skipped. */
  private async dueFires(job: ScheduledJob, now: number): Promise<FireRecord[]> {
    const schedule = job.schedule!;
    if (!this.next.has(job.name)) {
      const [last] = await this.o.fires.listFires({ job: job.name, newestFirst: true, limit: 1 });
      const seen = await this.seen(job.name);
      const from = Math.max(last ? Date.parse(last.slot) : -Infinity, Date.parse(seen) - 1);
      this.next.set(job.name, schedule.nextAfter(from));
    }
    let t: number | null = this.next.get(job.name)!;
    const out: FireRecord[] = [];
    let skipped = 0;
    while (t !== null && t <= now) {
      const slot = slotKey(t);
      if (now - t > job.catchupMs) {
        if (skipped++ < MAX_SKIPPED_RECORDS) out.push(newFire(job.name, slot, now, 'schedule', { status: 'skipped', reason: `missed while no scheduler ran; older than catchup (${job.catchupMs / 1000}s)` }));
        else {
          // Jump over a long outage instead of walking millions of slots.
          const jump = schedule.latestAtOrBefore(now - job.catchupMs);
          t = jump !== null && jump > t ? jump : t;
        }
      } else out.push(newFire(job.name, slot, now, now - t > 1000 ? 'catchup' : 'schedule'));
      t = schedule.nextAfter(t);
    }
    if (skipped > MAX_SKIPPED_RECORDS) this.o.log.warn(`${job.name}: ${skipped} missed slots beyond catchup; the first ${MAX_SKIPPED_RECORDS} are recorded as skipped`);
    this.next.set(job.name, t);
    return out;
  }

  private async seen(job: string): Promise<string> {
    let at = this.firstSeen.get(job);
    if (!at) {
      at = await this.o.fires.registerJob(job, slotKey(this.o.clock.now()));
      this.firstSeen.set(job, at);
    }
    return at;
  }

  /** Sleeps until the earliest next slot (on the scheduler's clock). */
  private arm(): void {
    // Now, not when the tick began: a tick that recorded and started many fires took a while, and the
    // next slot must not be late by that long.
    const now = this.o.clock.now();
    let earliest = Infinity;
    for (const [name, t] of this.next) if (t !== null && this.jobs.has(name) && !this.paused.has(name)) earliest = Math.min(earliest, t);
    if (earliest === Infinity) return;
    const delay = Math.min(Math.max(0, this.o.clock.realMs(earliest - now)), 3_600_000);
    this.timer = setTimeout(() => this.wake(), delay);
  }

  /** Starts claimed fires according to the job's concurrency and parents. */
  async dispatch(job: ScheduledJob, fires: FireRecord[]): Promise<void> {
    if (fires.length === 0) return;
    const busy = (this.active.get(job.name)?.length ?? 0) > 0 || (this.queued.get(job.name)?.length ?? 0) > 0;
    let run = fires;
    if (job.concurrency === 'forbid' && busy && fires.every((f) => f.origin === 'schedule')) {
      for (const f of fires) await this.settle(f, 'skipped', `the previous run is still going (concurrency: forbid)`);
      return;
    }
    if (job.concurrency === 'replace') {
      for (const f of fires.slice(0, -1)) await this.settle(f, 'skipped', `replaced by slot ${fires.at(-1)!.slot} (concurrency: replace)`);
      run = fires.slice(-1);
      for (const a of this.active.get(job.name) ?? []) {
        this.o.log.info(`${job.name}: cancelling run ${a.runId ?? ''} of slot ${a.slot} (concurrency: replace)`);
        a.abort.abort();
      }
    }
    for (const f of run) {
      if (job.after.length > 0) {
        const r = await readiness(job, f.slot, this.jobs, this.o.fires);
        if (!r.ready) {
          await this.o.fires.updateFire(job.name, f.slot, { status: 'waiting', reason: r.blocked });
          continue;
        }
      }
      this.enqueue(job, f);
    }
  }

  private enqueue(job: ScheduledJob, fire: FireRecord): void {
    if (job.concurrency === 'allow' || job.concurrency === 'replace') return void this.launch(job, fire);
    const q = this.queued.get(job.name) ?? [];
    q.push(fire);
    this.queued.set(job.name, q);
    this.pump(job.name);
  }

  /** forbid: one run at a time per job; queued catch-up fires run oldest first. */
  private pump(name: string): void {
    if ((this.active.get(name)?.length ?? 0) > 0 || this.drain.signal.aborted) return;
    const q = this.queued.get(name);
    const fire = q?.shift();
    if (q && q.length === 0) this.queued.delete(name);
    const job = this.jobs.get(name);
    if (fire && job) this.launch(job, fire);
  }

  private async settle(fire: FireRecord, status: FireStatus, reason: string | null, runId?: string): Promise<void> {
    await this.o.fires.updateFire(fire.job, fire.slot, { status, reason, ...(runId ? { runId } : {}) });
  }

  /**
   * Runs a claimed fire: a new run, or the run of a fire a crash interrupted, resumed from stage `from`
   * (null: from the beginning, as the same run, when it had not stored its job spec yet).
   */
  launch(job: ScheduledJob, fire: FireRecord, resume?: { runId: string; from: StageName | null }): ActiveRun | null {
    // A fire left unstarted stays open in the store; whoever leads next recovers it.
    if (!this.mayStart()) return null;
    const abort = new AbortController();
    const entry: ActiveRun = { slot: fire.slot, runId: resume?.runId ?? null, abort, done: Promise.resolve(null) };
    let recorded: Promise<void> = Promise.resolve();
    const { loaded, params } = jobForSlot(job, fire.slot);
    const options: RunOptions = {
      ...this.o.runOptions,
      store: this.o.store, executor: this.o.executor, home: this.o.home, params,
      trigger: fire.origin, slot: fire.slot, signal: abort.signal, drain: this.drain.signal,
      onEvent: (event) => {
        this.o.runOptions?.onEvent?.(event);
        if (event.type === 'run-start') {
          entry.runId = event.run.id;
          recorded = this.o.fires.updateFire(fire.job, fire.slot, { status: 'running', runId: event.run.id });
        }
      },
    };
    const started = !resume ? runJob(loaded, options) : resume.from ? replayRun(resume.runId, resume.from, options) : restartRun(loaded, resume.runId, options);
    entry.done = started
      .then(async (run) => {
        await recorded;
        const status: FireStatus = run.status === 'succeeded' ? 'succeeded' : run.status === 'interrupted' ? (abort.signal.aborted && !this.drain.signal.aborted ? 'skipped' : 'interrupted') : 'failed';
        await this.settle(fire, status, status === 'skipped' ? 'replaced by a newer slot (concurrency: replace)' : run.error?.message ?? null, run.id);
        this.o.log.info(`${fire.job}: run ${run.id} of slot ${fire.slot} ${run.status}`, { job: fire.job, run: run.id, slot: fire.slot });
        return run;
      })
      .catch(async (err: unknown) => {
        this.o.log.error(`${fire.job}: slot ${fire.slot} could not run: ${(err as Error).message}`, { job: fire.job, slot: fire.slot });
        await recorded;
        await this.settle(fire, 'failed', (err as Error).message).catch(() => undefined);
        return null;
      })
      .finally(() => {
        const list = (this.active.get(fire.job) ?? []).filter((a) => a !== entry);
        if (list.length) this.active.set(fire.job, list);
        else this.active.delete(fire.job);
        this.pump(fire.job);
        void this.afterRun(fire.job);
      });
    this.active.set(fire.job, [...(this.active.get(fire.job) ?? []), entry]);
    return entry;
  }

  /** A run ended: children waiting on this job may go now (durably derived from fire records). */
  async afterRun(parent: string): Promise<void> {
    if (!this.leading || this.drain.signal.aborted) return;
    for (const child of this.jobs.values()) if (child.after.includes(parent)) await this.checkChildren(child).catch((err: unknown) => this.o.log.error(`${child.name}: dependency check failed: ${(err as Error).message}`));
  }

  /** Starts the child's waiting fires whose parents succeeded, and (unscheduled children) new ones. */
  async checkChildren(child: ScheduledJob): Promise<void> {
    if (this.paused.has(child.name)) return;
    const now = this.o.clock.now();
    for (const f of await this.o.fires.listFires({ job: child.name, statuses: ['waiting'] })) {
      const r = await readiness(child, f.slot, this.jobs, this.o.fires);
      if (r.ready) {
        await this.o.fires.updateFire(child.name, f.slot, { status: 'fired', reason: null });
        this.enqueue(child, { ...f, status: 'fired', reason: null });
      } else if (r.blocked !== f.reason) await this.o.fires.updateFire(child.name, f.slot, { reason: r.blocked });
    }
    if (child.schedule) return;
    const slots = await dependentSlots(child, await this.seen(child.name), this.jobs, this.o.fires);
    const claimed = await this.o.fires.claimFires(slots.map((s) => newFire(child.name, s, now, 'after')));
    for (const f of claimed) this.enqueue(child, f);
  }

  /** A run now, outside the schedule (no slot); resolves once the run is recorded. */
  trigger(loaded: LoadedJob, params: Record<string, string>, trigger: string): Promise<RunRecord> {
    const abort = new AbortController();
    const name = loaded.spec.job;
    return new Promise<RunRecord>((resolve, reject) => {
      const entry: ActiveRun = { slot: null, runId: null, abort, done: Promise.resolve(null) };
      entry.done = runJob(loaded, {
        ...this.o.runOptions, store: this.o.store, executor: this.o.executor, home: this.o.home, params, trigger, signal: abort.signal, drain: this.drain.signal,
        onEvent: (event) => {
          this.o.runOptions?.onEvent?.(event);
          if (event.type === 'run-start') resolve({ ...event.run });
        },
      }).then(
        (run) => run,
        (err: unknown) => (reject(err as Error), null),
      ).finally(() => {
        const list = (this.active.get(name) ?? []).filter((a) => a !== entry);
        if (list.length) this.active.set(name, list);
        else this.active.delete(name);
        this.pump(name);
      });
      this.active.set(name, [...(this.active.get(name) ?? []), entry]);
    });
  }

  /** Durable: the store keeps it for the next leader. Resuming does not catch up the paused slots. */
  async setPaused(job: string, paused: boolean): Promise<void> {
    await this.o.fires.setPaused(job, paused);
    if (paused) this.paused.add(job);
    else if (this.paused.delete(job)) {
      const schedule = this.jobs.get(job)?.schedule;
      if (schedule) this.next.set(job, schedule.nextAfter(this.o.clock.now()));
      if (this.leading) void this.registerResume(job);
    }
    this.wake();
  }

  private async registerResume(job: string): Promise<void> {
    const child = this.jobs.get(job);
    if (child && child.after.length > 0) await this.checkChildren(child).catch(() => undefined);
  }

  /** The leader re-reads pauses set through another server. */
  async refreshPaused(): Promise<void> {
    const now = await this.o.fires.pausedJobs();
    let resumed = false;
    for (const job of this.paused) {
      if (now.has(job)) continue;
      // Resumed through another server: as a resume here, from the next slot, the paused ones not caught up.
      const schedule = this.jobs.get(job)?.schedule;
      if (schedule) this.next.set(job, schedule.nextAfter(this.o.clock.now()));
      else this.next.delete(job);
      resumed = true;
    }
    this.paused = now;
    if (resumed) this.wake();
  }

  activeRuns(job: string): number {
    return this.active.get(job)?.length ?? 0;
  }

  nextFire(job: string): number | null {
    const j = this.jobs.get(job);
    if (!j?.schedule || this.paused.has(job)) return null;
    return this.next.get(job) ?? j.schedule.nextAfter(this.o.clock.now());
  }

  /**
   * Shutdown: no new fire, no new stage; stages in flight get `graceMs` to finish, then are cancelled.
   * Runs that did not finish are recorded as interrupted (and resumed by the next start).
   */
  async shutdown(graceMs: number): Promise<void> {
    this.stopLeading();
    this.drain.abort();
    await this.ticking;
    const all = () => [...this.active.values()].flat();
    const settled = Promise.all(all().map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
    if ((await Promise.race([settled, late])) === 'late') for (const a of all()) a.abort.abort();
    clearTimeout(timer);
    await Promise.all(all().map((a) => a.done));
  }
}
