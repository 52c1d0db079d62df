import { z } from 'zod';
import { compression } from '../csv/config.js';

export const ndjsonConfig = z
  .object({
    from: z.literal('ndjson'),
    path: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('A file, a glob (logs/*.ndjson.gz) or a list of them, relative to the job file\'s folder. Files are read in sorted order.'),
    compression,
  })
  .strict()
  .describe('Reads newline-delimited JSON files (one object per line), optionally gzipped');

export type NdjsonConfig = z.infer<typeof ndjsonConfig>;
export type NdjsonConfigInput = z.input<typeof ndjsonConfig>;
