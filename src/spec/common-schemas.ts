import { z } from 'zod';
import { FIELD_TYPES } from '../core/schema.js';
import { parseDuration, parseSize } from './units.js';

export const durationSchema = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== null, { message: 'expected a duration like "30s", "10m", "1h30m" or a number of seconds' })
  .refine((v) => parseDuration(v) !== 0, { message: 'a duration must be more than zero (leave the key out for none)' })
  .describe('A duration: "500ms", "30s", "10m", "1h30m", "1d", or a number of seconds');

export const sizeSchema = z
  .union([z.string(), z.number()])
  .refine((v) => parseSize(v) !== null, { message: 'expected a size like "512Mi", "1Gi", "64MB" or a number of bytes' })
  .describe('A size: "512Mi", "1Gi", "64MB", or a number of bytes');

export const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected lowercase letters, digits and "-" (e.g. "site-stats")');

export const fieldTypeSchema = z.enum(FIELD_TYPES);

export const retriesSchema = z
  .strictObject({
    attempts: z.number().int().min(1).max(100).default(3).describe('Attempts in all, the first included'),
    backoff: durationSchema.default('10s').describe('Wait before the second attempt; doubles each time'),
    max_backoff: durationSchema.default('10m').describe('Cap on the wait between attempts'),
  })
  .describe('Retries of a failed stage with exponential backoff (only errors classified retryable, and crashes)');

export const resourcesSchema = z
  .strictObject({
    cpus: z.number().positive().default(1).describe('CPU cores requested for each stage'),
    memory: sizeSchema.default('512Mi').describe('Memory requested for each stage'),
  })
  .describe('Resources each stage requests from the pool');

/** Options every stage section may carry to override the job-wide ones. */
export const stageOptionsShape = {
  resources: resourcesSchema.optional(),
  timeout: durationSchema.optional().describe('Timeout of this stage (default: the job timeout)'),
  retries: retriesSchema.optional(),
  priority: z.number().int().optional().describe('Pool priority of this stage (default: the job priority); higher starts first'),
  image: z.string().optional().describe('Container image of this stage (docker/kubernetes; default: the job image)'),
};

/** The `key` rules of every keyed sink: mode upsert needs one, and no column may be listed twice. */
export function checkLoadKey(c: { mode: string; key?: string[] | undefined }, ctx: z.RefinementCtx, purpose: string): void {
  if (c.mode === 'upsert' && (c.key === undefined || c.key.length === 0)) {
    ctx.addIssue({ code: 'custom', path: ['key'], message: `mode upsert needs key: ${purpose}, e.g. key: [day, site_id]` });
  }
  if (c.key !== undefined && new Set(c.key).size !== c.key.length) {
    ctx.addIssue({ code: 'custom', path: ['key'], message: `key lists a column twice: ${c.key.join(', ')}` });
  }
}

export const prioritySchema = z.number().int().default(0).describe('Resource pool priority of the job\'s stages: higher starts first when tasks wait; equal ones first come, first served');
