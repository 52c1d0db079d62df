import { z } from 'zod';

/**
 * Connectors the design names that this version does not implement yet. The schema accepts them so job
 * files written for them validate (and editors autocomplete them); a run that needs one fails with a
 * NotSupportedError before any stage starts, never silently.
 */
export const PLANNED_SOURCES = [] as const;
export const PLANNED_SINKS = ['s3'] as const;

export const plannedSourceSchemas = PLANNED_SOURCES.map((from) =>
  z.looseObject({ from: z.literal(from) }).describe(`${from} source (not supported yet)`),
);
export const plannedSinkSchemas = PLANNED_SINKS.map((to) =>
  z.looseObject({ to: z.literal(to) }).describe(`${to} sink (not supported yet)`),
);
