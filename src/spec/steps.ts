import type { Schema } from '../core/schema.js';
import type { JobSpec } from './job-schema.js';

export interface TransformStepRef {
  name: string;
  config: unknown;
  /** `transform[2].group`, for messages. */
  where: string;
  /** The YAML path of the step's config, for line numbers. */
  path: PropertyKey[];
}

/** The transform steps of a job, whichever of the three accepted shapes it used. */
export function transformSteps(spec: JobSpec): TransformStepRef[] {
  const t = spec.transform;
  if (t === undefined || 'module' in t) return [];
  const list = Array.isArray(t) ? t : t.steps;
  const base: PropertyKey[] = Array.isArray(t) ? ['transform'] : ['transform', 'steps'];
  return list.map((step, i) => {
    const [name, config] = Object.entries(step as Record<string, unknown>)[0]!;
    return { name, config, where: `transform[${i}].${name}`, path: [...base, i, name] };
  });
}

/** The typed schema adapt produces: the declared fields, in order. */
export function adaptedSchema(spec: JobSpec): Schema {
  return Object.entries(spec.adapt.fields).map(([name, f]) => ({ name, type: typeof f === 'string' ? f : f.type }));
}
