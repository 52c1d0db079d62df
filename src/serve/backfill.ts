import { runJob, type RunOptions } from '../runtime/run-job.js';
import { jobForSlot, type ScheduledJob } from '../schedule/scheduled-job.js';
import { slotKey, type FireRecord, type ScheduleStore } from '../schedule/schedule-store.js';
import { slotsBetween } from '../schedule/schedule.js';
import { SpecError } from '../core/errors.js';
import type { RunRecord, StateStore } from '../state/store.js';
import { newFire } from './dependencies.js';

/** Runs of a backfill with `concurrency: allow` that may go at once. */
const ALLOW_PARALLEL = 4;

export interface BackfillSlot {
  slot: string;
  /** The fire already recorded for this slot (by serve or an earlier backfill), if any. */
  existing: FireRecord | null;
}

/** The slots the job's schedule fires in [from, to], each with what is already recorded for it. */
export async function backfillPlan(job: ScheduledJob, from: number, to: number, fires: ScheduleStore): Promise<BackfillSlot[]> {
  if (!job.schedule) throw new SpecError(`job '${job.name}' has no schedule: nothing to backfill`, { details: { where: job.file, expected: 'schedule: { cron: … } or { every: … }' } });
  if (!(from <= to)) throw new SpecError(`--from ${new Date(from).toISOString()} is after --to ${new Date(to).toISOString()}`);
  const out: BackfillSlot[] = [];
  for (const t of slotsBetween(job.schedule, from - 1, to, 100_000)) out.push({ slot: slotKey(t), existing: await fires.getFire(job.name, slotKey(t)) });
  return out;
}

export interface BackfillResult {
  slot: string;
  run: RunRecord | null;
  skipped: string | null;
}

/**
 * Runs the slots not fired yet, recording each as a fire first (so serve never fires them again), and
 * honouring the job's concurrency: forbid runs them one after another, oldest first; allow runs up to
 * four at once; replace runs only the newest and records the others as replaced.
 */
export async function runBackfill(job: ScheduledJob, plan: BackfillSlot[], o: { store: StateStore; fires: ScheduleStore; executor: RunOptions['executor']; home: string; now: number; signal?: AbortSignal; runOptions?: Partial<RunOptions>; onResult?(r: BackfillResult): void }): Promise<BackfillResult[]> {
  const todo = plan.filter((p) => !p.existing).map((p) => newFire(job.name, p.slot, o.now, 'backfill'));
  const claimed = await o.fires.claimFires(todo);
  const results: BackfillResult[] = [];
  const report = (r: BackfillResult) => (results.push(r), o.onResult?.(r));
  let run = claimed;
  if (job.concurrency === 'replace' && claimed.length > 1) {
    for (const f of claimed.slice(0, -1)) {
      const reason = `replaced by slot ${claimed.at(-1)!.slot} (concurrency: replace)`;
      await o.fires.updateFire(f.job, f.slot, { status: 'skipped', reason });
      report({ slot: f.slot, run: null, skipped: reason });
    }
    run = claimed.slice(-1);
  }
  const one = async (f: FireRecord) => {
    if (o.signal?.aborted) {
      await o.fires.updateFire(f.job, f.slot, { status: 'skipped', reason: 'backfill cancelled before this slot ran' });
      return report({ slot: f.slot, run: null, skipped: 'cancelled' });
    }
    const { loaded, params } = jobForSlot(job, f.slot);
    const r = await runJob(loaded, {
      ...o.runOptions, params, store: o.store, executor: o.executor, home: o.home, trigger: 'backfill', slot: f.slot, ...(o.signal ? { signal: o.signal } : {}),
      onEvent: (e) => {
        o.runOptions?.onEvent?.(e);
        if (e.type === 'run-start') void o.fires.updateFire(f.job, f.slot, { status: 'running', runId: e.run.id });
      },
    });
    await o.fires.updateFire(f.job, f.slot, { status: r.status === 'succeeded' ? 'succeeded' : r.status === 'interrupted' ? 'interrupted' : 'failed', runId: r.id, reason: r.error?.message ?? null });
    report({ slot: f.slot, run: r, skipped: null });
  };
  const width = job.concurrency === 'allow' ? ALLOW_PARALLEL : 1;
  const queue = [...run];
  await Promise.all(Array.from({ length: Math.min(width, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) await one(f);
  }));
  return results.sort((a, b) => a.slot.localeCompare(b.slot));
}
