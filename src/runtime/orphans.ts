import { hostname } from 'node:os';
import type { StateStore } from '../state/store.js';

export function runnerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Whether a process of this host still exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A `datamill run` killed with -9 cannot record its own end. Runs still "running" whose runner process
 * on this host is gone are marked interrupted (with their running attempts), so history never lies.
 * Runs driven from other hosts are left alone: only their host can tell.
 */
export async function markAbandonedRuns(store: StateStore): Promise<number> {
  const host = hostname();
  let marked = 0;
  for (const run of await store.listRuns({ status: 'running', limit: 1000 })) {
    const [runHost, pid] = (run.runner ?? '').split(':');
    if (runHost !== host || !pid || alive(Number(pid))) continue;
    const message = `the datamill process driving this run (pid ${pid}) died`;
    const now = new Date().toISOString();
    for (const a of await store.listAttempts(run.id)) {
      if (a.status === 'running') await store.finishAttempt(run.id, a.stage, a.attempt, { status: 'failed', finishedAt: now, error: { stage: a.stage, name: 'RunnerDied', message, retryable: true } });
    }
    await store.updateRun(run.id, { status: 'interrupted', finishedAt: now, error: { stage: null, name: 'RunnerDied', message, retryable: true } });
    marked++;
  }
  return marked;
}
