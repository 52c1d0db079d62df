import type { StageName } from '../buffer/manifest.js';
import type { JobSpec } from '../spec/job-schema.js';
import { transformSteps } from '../spec/steps.js';

/** The stages a job runs, in order: transform is skipped when there are no steps (nothing to rewrite). */
export function stagesOf(spec: JobSpec): StageName[] {
  return transformSteps(spec).length > 0 ? ['extract', 'adapt', 'transform', 'load'] : ['extract', 'adapt', 'load'];
}

/** The stage whose committed output a stage reads. */
export function inputStageOf(spec: JobSpec, stage: StageName): StageName | null {
  const stages = stagesOf(spec);
  const i = stages.indexOf(stage);
  return i > 0 ? stages[i - 1]! : null;
}
