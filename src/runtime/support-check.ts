import { SINK_LOADERS, SOURCE_LOADERS } from '../../adapters/loaders.js';
import { NotSupportedError } from '../core/errors.js';
import type { JobSpec } from '../spec/job-schema.js';

/**
 * Things the job format accepts that this version cannot do yet. A run that needs one stops before any
 * stage starts, saying which — never ignoring it silently.
 */
export function unsupportedFeatures(spec: JobSpec): string[] {
  const out: string[] = [];
  if (!SOURCE_LOADERS[spec.extract.from]) out.push(`extract.from: ${spec.extract.from} sources are not supported yet (supported: ${Object.keys(SOURCE_LOADERS).join(', ')})`);
  if (!SINK_LOADERS[spec.load.to]) out.push(`load.to: ${spec.load.to} sinks are not supported yet (supported: ${Object.keys(SINK_LOADERS).join(', ')})`);
  if (spec.transform && !Array.isArray(spec.transform) && 'module' in spec.transform) out.push('transform.module: custom transform modules are not supported yet');
  return out;
}

export function assertSupported(spec: JobSpec): void {
  const problems = unsupportedFeatures(spec);
  if (problems.length > 0) throw new NotSupportedError(`this job needs features that are not supported yet:\n${problems.map((p) => '  ' + p).join('\n')}`, { details: { where: problems.map((p) => p.split(':')[0]).join(', ') } });
}
