import { z } from 'zod';
import { formatS3BufferUrl, s3BufferUrlProblem, s3SettingsShape, settingsProblem } from '../buffer/s3-url.js';

/**
 * `buffer:` as a URL string (file://DIR, s3://BUCKET/PREFIX[?endpoint=…]) or, for S3, a mapping with the
 * connection settings. The mapping is folded into one URL string (credential *references* in its query,
 * never values), so the runtime records and hands stages a single string either way.
 */
const bufferUrl = z.string().min(1).superRefine((url, ctx) => {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://') && !url.startsWith('s3://')) {
    ctx.addIssue({ code: 'custom', message: `unknown buffer scheme in ${url.split('/').slice(0, 3).join('/')}; expected file://DIR or s3://BUCKET/PREFIX`, input: url });
    return;
  }
  if (!url.startsWith('s3://')) return;
  const problem = s3BufferUrlProblem(url);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: url });
});

const s3Buffer = z
  .strictObject({
    url: z.string().regex(/^s3:\/\/[^?]+$/, 'expected s3://BUCKET/PREFIX (a file:// buffer is written as a plain string)').describe('s3://BUCKET/PREFIX'),
    ...s3SettingsShape,
  })
  .superRefine((o, ctx) => {
    const problem = settingsProblem(o);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: o });
  })
  .transform(({ url, ...settings }) => formatS3BufferUrl(url, settings))
  .describe('An S3 buffer with its connection settings');

export const bufferSchema = z
  .union([bufferUrl, s3Buffer])
  .default('file://.datamill/buffer')
  .describe('Where stage output is buffered: file://DIR, s3://BUCKET/PREFIX, or { url: s3://…, endpoint, region, path_style, access_key_id, secret_access_key }');
