import { SpecError } from '../core/errors.js';
import type { StageBuffer } from './buffer.js';
import { FileBuffer, fileBufferRoot } from './file-buffer.js';
import { S3Buffer } from './s3-buffer.js';
import { bufferConnection, parseS3BufferUrl } from './s3-url.js';

/**
 * Opens the buffer a job names. Relative file:// paths resolve against `baseDir` (the job file's folder's
 * project); an s3:// buffer's credential references are resolved now (or taken from the task env).
 */
export function openBuffer(url: string, baseDir: string): StageBuffer {
  if (url.startsWith('s3://')) {
    const { bucket, key, settings } = parseS3BufferUrl(url);
    return new S3Buffer(url, bufferConnection(settings, baseDir), bucket, key);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new SpecError(`buffer ${url}: unknown scheme`, { details: { value: url, expected: 'file://DIR or s3://BUCKET/PREFIX' } });
  }
  return new FileBuffer(url, fileBufferRoot(url, baseDir));
}
