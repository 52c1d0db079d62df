import { z } from 'zod';
import { s3SettingsShape, settingsProblem } from '../../src/buffer/s3-url.js';
import { compression, csvConfig } from '../csv/config.js';

const { delimiter, quote, escape, header, columns, encoding } = csvConfig.shape;

export const s3SourceConfig = z
  .object({
    from: z.literal('s3'),
    url: z
      .union([z.string().regex(/^s3:\/\/[^/]+/, 'expected s3://BUCKET/PREFIX or s3://BUCKET/GLOB'), z.array(z.string().regex(/^s3:\/\/[^/]+/, 'expected s3://BUCKET/PREFIX or s3://BUCKET/GLOB')).min(1)])
      .describe('s3://BUCKET/KEY (one object), s3://BUCKET/PREFIX/ (every object under it), s3://BUCKET/data/*.csv.gz (a glob: * ? ** [..] {a,b}), or a list. Objects are read in key order.'),
    format: z.enum(['csv', 'ndjson']).describe('How the objects are written: csv (RFC 4180) or ndjson (one JSON object per line)'),
    delimiter, quote, escape, header, columns, encoding,
    compression,
    ...s3SettingsShape,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.delimiter === c.quote) ctx.addIssue({ code: 'custom', message: 'delimiter and quote must differ', path: ['delimiter'], input: c.delimiter });
    const problem = settingsProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['access_key_id'], input: c });
  })
  .describe('Reads CSV or NDJSON objects (optionally gzipped) from S3 or an S3-compatible store');

export type S3SourceConfig = z.infer<typeof s3SourceConfig>;
