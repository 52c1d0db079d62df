import { z } from 'zod';
import { durationSchema } from '../../src/spec/common-schemas.js';

const max_pages = z.number().int().positive().optional().describe('Stop after this many pages (a safety net against an API that never ends)');

const pageStyle = z.strictObject({
  type: z.literal('page'),
  param: z.string().min(1).default('page').describe('Query parameter carrying the page number'),
  start: z.number().int().min(0).default(1).describe('Number of the first page'),
  size_param: z.string().min(1).optional().describe('Query parameter carrying the page size, if the API takes one'),
  size: z.number().int().positive().optional().describe('Records per page: a shorter page is the last one (without it, an empty page is)'),
  max_pages,
});

const offsetStyle = z.strictObject({
  type: z.literal('offset'),
  param: z.string().min(1).default('offset').describe('Query parameter carrying the offset of the first record'),
  limit_param: z.string().min(1).default('limit').describe('Query parameter carrying the page size'),
  limit: z.number().int().positive().default(100).describe('Records per page: a shorter page is the last one'),
  max_pages,
});

const cursorStyle = z.strictObject({
  type: z.literal('cursor'),
  param: z.string().min(1).default('cursor').describe('Query parameter the next cursor is sent in'),
  next: z.string().min(1).default('next_cursor').describe('Dotted path of the next cursor in the response (e.g. meta.next); missing, null or "" ends the pages'),
  max_pages,
});

const linkStyle = z.strictObject({
  type: z.literal('link-header'),
  max_pages,
});

const noneStyle = z.strictObject({ type: z.literal('none') });

const PAGINATION_TYPES = ['none', 'page', 'offset', 'cursor', 'link-header'] as const;

const paginationStyle = z.discriminatedUnion('type', [noneStyle, pageStyle, offsetStyle, cursorStyle, linkStyle]);

export const paginationSchema = z
  .union([z.enum(PAGINATION_TYPES).transform((type) => paginationStyle.parse({ type })), paginationStyle])
  .describe(`How to get the next page: ${PAGINATION_TYPES.join(' | ')}, or an object { type, … } with its options`);

/** A value a job may write for a query parameter; `${env:…}` references are resolved when requesting. */
const paramValue = z.union([z.string(), z.number(), z.boolean()]);

export const httpSourceConfig = z
  .object({
    from: z.literal('http'),
    url: z
      .string()
      .regex(/^(https?:\/\/|\$\{(env|file):)/i, 'url must start with http:// or https:// (or be a ${env:…}/${file:…} reference)')
      .describe('The endpoint; ${env:…} references are resolved only when requesting and never shown'),
    method: z.enum(['GET', 'POST']).default('GET'),
    params: z.record(z.string(), paramValue).optional().describe('Query parameters added to every request (values may be ${env:…} references)'),
    headers: z.record(z.string(), z.string()).optional().describe('Request headers, e.g. Authorization: "Bearer ${env:API_TOKEN}"'),
    body: z.record(z.string(), z.unknown()).optional().describe('JSON body of a POST (strings may be ${env:…} references)'),
    records: z
      .string()
      .min(1)
      .optional()
      .describe('Dotted path of the array of records in each response (e.g. data.items); default: the response is the array'),
    pagination: paginationSchema.default({ type: 'none' }),
    rate_limit: z.number().positive().optional().describe('Requests per second at most'),
    request_timeout: durationSchema.default('30s').describe('Gives up on one request (headers and body) after this long'),
    request_retries: z
      .strictObject({
        attempts: z.number().int().min(1).max(100).default(5).describe('Attempts per request in all, the first included'),
        backoff: durationSchema.default('1s').describe('Wait before the second attempt; doubles each time. A Retry-After header overrides it'),
        max_backoff: durationSchema.default('1m').describe('Longest wait; a Retry-After above it fails the request (retryable) instead'),
      })
      .default({ attempts: 5, backoff: '1s', max_backoff: '1m' })
      .describe('Retries of one request after a network error, a timeout, 429 or 5xx'),
    incremental: z
      .strictObject({
        field: z.string().min(1).describe('Dotted path of a field of each record that grows as records are added or changed (id, updated_at)'),
        param: z.string().min(1).optional().describe('Query parameter the high-water mark is sent in, so the API returns only newer records'),
        start: z.union([z.string(), z.number()]).optional().describe('Mark to start from on the first run (default: all records)'),
      })
      .optional()
      .describe('Keep only records whose field is above the mark of the last successful run; the mark moves only when the run\'s load commits'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.body !== undefined && c.method !== 'POST') ctx.addIssue({ code: 'custom', path: ['body'], message: 'body is sent only with method: POST' });
  })
  .describe('Extracts records from a JSON API, page by page');

export type HttpSourceSpec = z.input<typeof httpSourceConfig>;
export type HttpSourceConfig = z.output<typeof httpSourceConfig>;
export type Pagination = HttpSourceConfig['pagination'];
