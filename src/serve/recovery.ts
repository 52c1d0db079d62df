import { dirname } from 'node:path';
import type winston from 'winston';
import { openBuffer } from '../buffer/open-buffer.js';
import type { StageName } from '../buffer/manifest.js';
import { markAbandonedRuns } from '../runtime/orphans.js';
import type { JobSpec } from '../spec/job-schema.js';
import { stagesOf } from '../stage/plan.js';
import { OPEN_FIRE_STATUSES, type FireRecord, type ScheduleStore } from '../schedule/schedule-store.js';
import type { RunRecord, StateStore } from '../state/store.js';
import type { Scheduler } from './scheduler.js';

/** A fire whose run was interrupted by crashes this many times is failed instead of resumed again. */
export const MAX_RESUMES = 3;

/** The first stage of a run without a committed manifest: where a resumed run starts. */
async function resumePoint(run: RunRecord): Promise<StageName | null> {
  const buffer = openBuffer(run.buffer, dirname(run.jobFile));
  const ref = { tenant: run.tenant, job: run.job, run: run.id };
  const text = await buffer.getRunFile(ref, '_job.json');
  if (text === null) return null;
  const stages = stagesOf(JSON.parse(text) as JobSpec);
  for (const stage of stages) if (!(await buffer.readManifest({ ...ref, stage }))) return stage;
  // Every stage committed but the run was not recorded as ended: the load's ledger makes a replay a no-op.
  return stages.at(-1)!;
}

/**
 * On becoming leader: every fire left open by a crash (kill -9), a lost leader or a shutdown is
 * settled. A fire without a run starts its run; an interrupted run resumes from the first stage without
 * a committed manifest; a run that cannot resume is failed with the reason. None stays "running".
 */
export async function recoverFires(o: { store: StateStore; fires: ScheduleStore; scheduler: Scheduler; log: winston.Logger }): Promise<number> {
  await markAbandonedRuns(o.store);
  let recovered = 0;
  for (const fire of await o.fires.listFires({ statuses: OPEN_FIRE_STATUSES.filter((s) => s !== 'waiting') })) {
    // Leadership lost meanwhile: the next leader recovers the rest.
    if (!o.scheduler.isLeader) return recovered;
    // This process runs it already (it led before, briefly lost the lease, and leads again).
    if (o.scheduler.owns(fire.job, fire.slot)) continue;
    if (await recoverFire(fire, o)) recovered++;
  }
  // Chains: children whose parents succeeded while (or just before) the last leader died.
  for (const child of o.scheduler.jobs.values()) if (child.after.length > 0) await o.scheduler.checkChildren(child);
  return recovered;
}

async function recoverFire(fire: FireRecord, o: { store: StateStore; fires: ScheduleStore; scheduler: Scheduler; log: winston.Logger }): Promise<boolean> {
  const job = o.scheduler.jobs.get(fire.job);
  let run = fire.runId ? await o.store.getRun(fire.runId) : (await o.store.listRuns({ job: fire.job, limit: 200 })).find((r) => r.slot === fire.slot) ?? null;
  if (run?.status === 'running' || run?.status === 'queued') return false; // driven by a live process
  if (run && (run.status === 'succeeded' || run.status === 'failed')) {
    await o.fires.updateFire(fire.job, fire.slot, { status: run.status, runId: run.id, reason: run.error?.message ?? null });
    return true;
  }
  if (run && fire.resumes >= MAX_RESUMES) {
    const message = `interrupted ${fire.resumes + 1} times (the server crashed or stopped during the run); not resumed again`;
    await o.store.updateRun(run.id, { status: 'failed', finishedAt: new Date().toISOString(), error: { stage: null, name: 'ResumeLimit', message, retryable: false } });
    await o.fires.updateFire(fire.job, fire.slot, { status: 'failed', runId: run.id, reason: message });
    o.log.error(`${fire.job}: slot ${fire.slot}: run ${run.id} ${message}`);
    return true;
  }
  const from = run ? await resumePoint(run) : null;
  if (run && from) {
    o.log.warn(`${fire.job}: resuming run ${run.id} of slot ${fire.slot} from ${from} after an interruption`, { job: fire.job, run: run.id, slot: fire.slot });
    await o.fires.updateFire(fire.job, fire.slot, { status: 'running', runId: run.id, resumes: fire.resumes + 1 });
    o.scheduler.launch(job ?? placeholder(fire), fire, { runId: run.id, from });
    return true;
  }
  if (run && job) {
    // It crashed before its job spec reached the buffer: nothing ran. The same run starts from the beginning.
    o.log.warn(`${fire.job}: run ${run.id} of slot ${fire.slot} died before it started; starting it again`, { job: fire.job, run: run.id, slot: fire.slot });
    await o.fires.updateFire(fire.job, fire.slot, { status: 'running', runId: run.id, resumes: fire.resumes + 1 });
    o.scheduler.launch(job, fire, { runId: run.id, from: null });
    return true;
  }
  if (run) {
    const message = 'the server died before the run stored its job spec, and its job file is gone';
    await o.store.updateRun(run.id, { status: 'failed', finishedAt: new Date().toISOString(), error: { stage: null, name: 'RunnerDied', message, retryable: false } });
  }
  if (!job) {
    await o.fires.updateFire(fire.job, fire.slot, { status: 'skipped', reason: 'the job file was removed before its run could start' });
    return true;
  }
  o.log.warn(`${fire.job}: slot ${fire.slot} was fired but its run never started; starting it`, { job: fire.job, slot: fire.slot });
  await o.fires.updateFire(fire.job, fire.slot, { status: 'fired', runId: null, resumes: fire.resumes + 1 });
  o.scheduler.launch(job, fire);
  return true;
}

/** A resumed run whose job file is gone still finishes (its spec is in the buffer). */
function placeholder(fire: FireRecord): Parameters<Scheduler['launch']>[0] {
  return { file: '', name: fire.job, loaded: { file: '', baseDir: '', spec: {} as JobSpec, source: '' }, schedule: null, catchupMs: 0, concurrency: 'allow', after: [] };
}
