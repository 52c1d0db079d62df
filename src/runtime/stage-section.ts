import { STAGES, type StageName } from '../buffer/manifest.js';
import type { JobSpec } from '../spec/job-schema.js';

/** The options a stage section may carry to override the job-wide ones (stageOptionsShape). */
export interface StageSection {
  retries?: JobSpec['retries'];
  timeout?: string | number;
  resources?: JobSpec['resources'];
  priority?: number;
  image?: string;
}

/** A stage's own section; an array `transform:` (steps only) has no options of its own. */
export function stageSection(spec: JobSpec, stage: StageName): StageSection {
  return (stage === 'transform' ? (Array.isArray(spec.transform) ? {} : spec.transform ?? {}) : spec[stage]) as StageSection;
}

/** The pool priority of a stage: its own, else the job's, else 0 (specs kept by older runs have none). */
export function stagePriority(spec: JobSpec, stage: string): number {
  const own = (STAGES as readonly string[]).includes(stage) ? stageSection(spec, stage as StageName).priority : undefined;
  return own ?? spec.priority ?? 0;
}
