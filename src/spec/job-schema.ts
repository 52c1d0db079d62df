import { z } from 'zod';
import { SINK_CONFIGS, SOURCE_CONFIGS } from '../../adapters/index.js';
import { TRANSFORMS } from '../../transforms/index.js';
import { durationSchema, fieldTypeSchema, nameSchema, prioritySchema, resourcesSchema, retriesSchema, stageOptionsShape } from './common-schemas.js';
import { plannedSinkSchemas, plannedSourceSchemas } from './planned-connectors.js';
import { bufferSchema } from './buffer-schema.js';
import { kubernetesSchema } from '../runtime/kubernetes/kubernetes-schema.js';
import { DEFAULT_RETENTION } from '../buffer/retention.js';

/** The zod schema of a job file (DESIGN §1): the one source of validation and of the JSON Schema. */

const withStageOptions = <T extends z.ZodObject>(schema: T) => schema.extend(stageOptionsShape);

export const scheduleSchema = z
  .strictObject({
    cron: z.string().optional().describe('Cron expression, 5 or 6 fields ("0 3 * * *")'),
    every: z.string().optional().describe('ISO-8601 repeating interval, Chronos style: "R/2026-01-01T03:00:00Z/P1D"'),
    timezone: z.string().default('UTC').describe('IANA time zone the cron expression is read in'),
    catchup: durationSchema.optional().describe('Missed fires within this window still run after downtime'),
    concurrency: z.enum(['forbid', 'allow', 'replace']).default('forbid').describe('What a fire does while the last run is still going'),
  })
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), { message: 'give exactly one of "cron" or "every"' })
  .describe('When the job fires (used by `datamill serve`)');

/** PostgreSQL truncates identifiers past 63 bytes (not characters), which would break every later load. */
export const columnNameSchema = z
  .string()
  .min(1)
  .refine((n) => Buffer.byteLength(n, 'utf8') <= 63, { message: 'column names are at most 63 bytes in UTF-8 (PostgreSQL truncates longer ones)' });

export const adaptFieldSchema = z.union([
  fieldTypeSchema,
  z.strictObject({
    type: fieldTypeSchema,
    from: z.string().optional().describe('Input column (csv) or dotted path (ndjson) to read; default: the field name'),
    required: z.boolean().default(false).describe('Reject the row when the value is missing or empty'),
    default: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional().describe('Value used when the input is missing or empty'),
    trim: z.boolean().default(true).describe('Trim surrounding whitespace of text input'),
  }),
]);

export const adaptSchema = z
  .strictObject({
    fields: z.record(columnNameSchema, adaptFieldSchema).refine((f) => Object.keys(f).length > 0, { message: 'declare at least one field' }).describe('Output fields in order: name → type, or { type, from, required, default }'),
    on_invalid: z.enum(['reject', 'fail']).default('reject').describe('reject: keep the row and the reason in _rejects/ and go on; fail: stop at the first invalid row'),
    max_reject_ratio: z.number().min(0).max(1).default(0).describe('Fail the stage when rejected rows / input rows is above this'),
    ...stageOptionsShape,
  })
  .describe('Map raw records into typed, validated rows');

const transformNames = Object.keys(TRANSFORMS);
export const transformStepSchema = z.union(
  transformNames.map((name) => z.strictObject({ [name]: TRANSFORMS[name]!.config }).describe(TRANSFORMS[name]!.description)) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
);

export const transformSchema = z.union([
  z.array(transformStepSchema).describe('Row operations applied in order'),
  z.strictObject({ module: z.string().describe('Path to your own module implementing the stage (not supported yet)'), ...stageOptionsShape }),
  z.strictObject({ steps: z.array(transformStepSchema), ...stageOptionsShape }).describe('Row operations with stage options'),
]);

export const extractSchema = z.discriminatedUnion('from', [...SOURCE_CONFIGS.map(withStageOptions), ...plannedSourceSchemas] as unknown as [z.ZodObject, ...z.ZodObject[]]);
export const loadSchema = z.discriminatedUnion('to', [...SINK_CONFIGS.map(withStageOptions), ...plannedSinkSchemas] as unknown as [z.ZodObject, ...z.ZodObject[]]);

export const jobSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of the job JSON Schema, for editors'),
    job: nameSchema.describe('Unique job name'),
    description: z.string().optional(),
    tenant: nameSchema.default('default').describe('Owner for quotas, isolation and API scoping'),
    schedule: scheduleSchema.optional(),
    after: z.array(nameSchema).optional().describe('Jobs whose run for the same period must succeed first'),
    retries: retriesSchema.optional(),
    timeout: durationSchema.optional().describe('Default timeout of each stage'),
    resources: resourcesSchema.optional(),
    priority: prioritySchema,
    executor: z.enum(['process', 'docker', 'kubernetes']).default('process').describe('Where stages run'),
    image: z.string().optional().describe('Container image for the docker/kubernetes executors'),
    kubernetes: kubernetesSchema.optional(),
    notify: z
      .strictObject({
        slack: z.strictObject({
          webhook: z.string().describe('Incoming webhook URL; use ${env:NAME}'),
          on: z.array(z.enum(['failure', 'fatal', 'recovery', 'success'])).default(['failure', 'recovery']),
          channel: z.string().optional().describe('Post to this channel instead of the webhook\'s default (#name)'),
        }),
      })
      .optional(),
    buffer: bufferSchema,
    retention: durationSchema.default(DEFAULT_RETENTION).describe('How long runs stay in the buffer after their last write; `datamill gc` removes older ones'),
    params: z.record(z.string(), z.string()).optional().describe('Defaults for ${param:NAME} references; override with --param'),
    extract: extractSchema,
    adapt: adaptSchema,
    transform: transformSchema.optional(),
    load: loadSchema,
  })
  .describe('A Datamill job: extract → adapt → transform → load');

/** The validated job. Connector sections are typed by their connector (adapters/), so here they are open. */
export type JobSpec = Omit<z.output<typeof jobSchema>, 'extract' | 'load'> & {
  extract: { from: string; resources?: z.output<typeof resourcesSchema>; priority?: number; image?: string; timeout?: string | number; retries?: z.output<typeof retriesSchema> } & Record<string, unknown>;
  load: { to: string; resources?: z.output<typeof resourcesSchema>; priority?: number; image?: string; timeout?: string | number; retries?: z.output<typeof retriesSchema> } & Record<string, unknown>;
};
export type AdaptSpec = z.output<typeof adaptSchema>;
