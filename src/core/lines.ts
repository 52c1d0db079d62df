import type { Readable } from 'node:stream';

/**
 * Splits a byte stream into batches of lines (without their "\n"). Batches, not single lines, so the
 * per-line cost is a string slice and nothing async.
 */
export async function* lineBatches(stream: Readable): AsyncGenerator<string[]> {
  stream.setEncoding('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = rest.length > 0 ? rest + chunk : chunk;
    const last = text.lastIndexOf('\n');
    if (last === -1) {
      rest = text;
      continue;
    }
    rest = text.slice(last + 1);
    yield text.slice(0, last).split('\n');
  }
  if (rest.length > 0) yield [rest];
}
