import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { DatamillError } from '../core/errors.js';
import { loadJobFile, type LoadedJob } from '../spec/load-job.js';
import { locate, type SpecProblem } from '../spec/problems.js';
import { parseDuration } from '../spec/units.js';
import { graphProblems } from './job-graph.js';
import { compileSchedule, type SlotSchedule } from './schedule.js';

/** Missed slots younger than this still fire when `catchup` is not set (timer jitter, a quick restart). */
export const DEFAULT_CATCHUP_MS = 60_000;

/** A job as the scheduler uses it: the loaded file plus its compiled schedule and settings. */
export interface ScheduledJob {
  /** Path relative to the jobs folder (what users see). */
  file: string;
  loaded: LoadedJob;
  name: string;
  schedule: SlotSchedule | null;
  catchupMs: number;
  concurrency: 'forbid' | 'allow' | 'replace';
  after: string[];
}

/**
 * The job as it runs for one slot: a job that refers to `${param:slot}` (the scheduled time, ISO-8601
 * UTC) is loaded again with it, so it can extract exactly its period; others run as loaded.
 */
export function jobForSlot(job: ScheduledJob, slot: string): { loaded: LoadedJob; params: Record<string, string> } {
  if (!job.loaded.source.includes('${param:slot}')) return { loaded: job.loaded, params: {} };
  const again = loadJobFile(job.loaded.file, { params: { slot } }).job;
  return again ? { loaded: again, params: { slot } } : { loaded: job.loaded, params: {} };
}

/** Loads one job file and compiles its schedule; problems name the file, line and YAML path. */
export function loadScheduledJob(path: string, displayName: string): { job: ScheduledJob | null; problems: SpecProblem[] } {
  const { job, problems } = loadJobFile(path);
  if (!job) return { job: null, problems: problems.map((p) => ({ ...p, file: displayName })) };
  const spec = job.spec;
  let schedule: SlotSchedule | null = null;
  if (spec.schedule) {
    try {
      schedule = compileSchedule(spec.schedule);
    } catch (err) {
      if (!(err instanceof DatamillError)) throw err;
      const where = String(err.details.where ?? 'schedule').split('.');
      return { job: null, problems: [{ file: displayName, ...locateIn(job.source, where), path: where.join('.'), message: err.message }] };
    }
  }
  return {
    job: {
      file: displayName, loaded: job, name: spec.job, schedule,
      catchupMs: spec.schedule?.catchup === undefined ? DEFAULT_CATCHUP_MS : parseDuration(spec.schedule.catchup) ?? DEFAULT_CATCHUP_MS,
      concurrency: spec.schedule?.concurrency ?? 'forbid',
      after: spec.after ?? [],
    },
    problems: [],
  };
}

function locateIn(text: string, path: string[]): { line: number; column: number } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  return isMap(doc.contents) ? locate(doc, lines, path) : { line: 1, column: 1 };
}

/** Job files in a folder and its subfolders (*.yaml, *.yml), sorted, hidden folders skipped. */
export function jobFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jobFilesIn(path));
    else if (/\.ya?ml$/.test(name)) out.push(path);
  }
  return out;
}

/**
 * Loads every job file of a folder and checks `after:` across them. Jobs whose file has a problem or
 * whose dependencies are wrong (unknown parent, cycle, duplicate name) come back as problems, not jobs.
 */
export function loadJobFolder(dir: string): { jobs: ScheduledJob[]; problems: SpecProblem[] } {
  const loaded = jobFilesIn(dir).map((path) => loadScheduledJob(path, relative(process.cwd(), path) || path));
  return checkDependencies(loaded.flatMap((l) => (l.job ? [l.job] : [])), loaded.flatMap((l) => l.problems));
}

/** Splits jobs into those whose `after:` holds and problems for the rest. */
export function checkDependencies(jobs: ScheduledJob[], problems: SpecProblem[] = []): { jobs: ScheduledJob[]; problems: SpecProblem[] } {
  const graph = graphProblems(jobs.map((j) => ({ job: j.name, file: j.file, after: j.after })));
  const bad = new Set(graph.map((g) => g.file));
  const out = [...problems];
  for (const g of graph) {
    const job = jobs.find((j) => j.file === g.file);
    const at = job ? locateIn(job.loaded.source, ['after']) : { line: 1, column: 1 };
    out.push({ file: g.file, ...at, path: 'after', message: g.message });
  }
  // A child of a broken job cannot run either: its parent will never succeed.
  let ok = jobs.filter((j) => !bad.has(j.file));
  for (let changed = true; changed; ) {
    const names = new Set(ok.map((j) => j.name));
    const next = ok.filter((j) => j.after.every((p) => names.has(p)));
    changed = next.length !== ok.length;
    for (const j of ok) if (!next.includes(j)) out.push({ file: j.file, ...locateIn(j.loaded.source, ['after']), path: 'after', message: `parent ${j.after.filter((p) => !names.has(p)).join(', ')} cannot be scheduled (see its problems)` });
    ok = next;
  }
  return { jobs: ok, problems: out };
}
