import type { ScheduledJob } from '../schedule/scheduled-job.js';
import { slotKey, type FireRecord, type ScheduleStore } from '../schedule/schedule-store.js';

export type Readiness = { ready: true } | { ready: false; blocked: string | null };

/**
 * The parent's period that a child's slot belongs to: a scheduled parent's latest slot at or before it
 * (a daily parent covers every hourly child slot of that day); an unscheduled parent runs for the very
 * slot of its own parent, so the same slot.
 */
export function parentPeriod(parent: ScheduledJob, slot: string): string | null {
  if (!parent.schedule) return slot;
  const t = parent.schedule.latestAtOrBefore(Date.parse(slot));
  return t === null ? null : slotKey(t);
}

/** Whether every parent's run for the child's period has succeeded; if one failed, why the child is blocked. */
export async function readiness(child: ScheduledJob, slot: string, jobs: ReadonlyMap<string, ScheduledJob>, fires: ScheduleStore): Promise<Readiness> {
  let blocked: string | null = null;
  let ready = true;
  for (const name of child.after) {
    const parent = jobs.get(name);
    const period = parent ? parentPeriod(parent, slot) : null;
    const fire = period ? await fires.getFire(name, period) : null;
    if (fire?.status === 'succeeded') continue;
    ready = false;
    if (fire && (fire.status === 'failed' || fire.status === 'skipped')) {
      blocked ??= `blocked: parent ${name} ${fire.status}${fire.runId ? ` (run ${fire.runId})` : ''} for slot ${fire.slot}${fire.reason ? `: ${fire.reason}` : ''}`;
    }
  }
  return ready ? { ready: true } : { ready: false, blocked };
}

/**
 * Slots an unscheduled child should fire for now: its parents' recently succeeded slots since the child
 * was first seen, that the child has not fired yet and for which every parent has succeeded. Derived
 * from durable fire records only, so a restart in the middle of a chain continues it.
 */
export async function dependentSlots(child: ScheduledJob, firstSeen: string, jobs: ReadonlyMap<string, ScheduledJob>, fires: ScheduleStore): Promise<string[]> {
  const candidates = new Set<string>();
  for (const name of child.after) {
    for (const f of await fires.listFires({ job: name, statuses: ['succeeded'], newestFirst: true, limit: 20 })) {
      if (f.firedAt >= firstSeen) candidates.add(f.slot);
    }
  }
  const out: string[] = [];
  for (const slot of [...candidates].sort()) {
    if (await fires.getFire(child.name, slot)) continue;
    if ((await readiness(child, slot, jobs, fires)).ready) out.push(slot);
  }
  return out;
}

/** What a job's status shows about its parents: the first parent whose latest fire failed or was skipped. */
export async function blockedBy(child: ScheduledJob, fires: ScheduleStore): Promise<string | null> {
  for (const name of child.after) {
    const [last] = await fires.listFires({ job: name, newestFirst: true, limit: 1 });
    if (last && (last.status === 'failed' || last.status === 'skipped')) {
      return `blocked: parent ${name} ${last.status}${last.runId ? ` (run ${last.runId})` : ''} for slot ${last.slot}${last.reason ? `: ${last.reason}` : ''}`;
    }
  }
  return null;
}

export function newFire(job: string, slot: string, now: number, origin: string, extra: Partial<FireRecord> = {}): FireRecord {
  return { job, slot, status: 'fired', runId: null, firedAt: slotKey(now), origin, reason: null, resumes: 0, ...extra };
}
