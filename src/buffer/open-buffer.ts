import { NotSupportedError, SpecError } from '../core/errors.js';
import type { StageBuffer } from './buffer.js';
import { FileBuffer, fileBufferRoot } from './file-buffer.js';

/** Opens the buffer a job names. Relative file:// paths resolve against `baseDir` (the job file's folder's project). */
export function openBuffer(url: string, baseDir: string): StageBuffer {
  if (url.startsWith('s3://')) {
    throw new NotSupportedError(`buffer ${url}: the S3 buffer is not supported yet (use file://)`, { details: { value: url, expected: 'file://DIR' } });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new SpecError(`buffer ${url}: unknown scheme`, { details: { value: url, expected: 'file://DIR or s3://BUCKET/PREFIX' } });
  }
  return new FileBuffer(url, fileBufferRoot(url, baseDir));
}
