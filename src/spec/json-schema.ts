import { z } from 'zod';
import { jobSchema } from './job-schema.js';

/** The JSON Schema of job files, generated from the same zod schema that validates them (for editors). */
export function jobJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(jobSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://datamill.dev/schemas/job.schema.json', title: 'Datamill job' };
}

export function jobJsonSchemaText(): string {
  return JSON.stringify(jobJsonSchema(), null, 2) + '\n';
}
