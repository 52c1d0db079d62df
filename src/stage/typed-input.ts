import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { StageBuffer } from '../buffer/buffer.js';
import type { Manifest, StageRef } from '../buffer/manifest.js';
import type { TypedInput } from '../core/connector.js';
import { BufferError } from '../core/errors.js';
import { rowsDecoder, type CellLayout } from '../core/row-codec.js';
import type { Row, Schema } from '../core/schema.js';

const DECODE_BYTES = 64 * 1024;

/** A committed typed stage output, readable as raw COPY-text parts or as decoded rows. */
export function typedInput(buffer: StageBuffer, ref: StageRef, manifest: Manifest): TypedInput {
  if (manifest.format !== 'tsv' || !manifest.schema) {
    throw new BufferError(`${ref.stage} output of run ${ref.run} is ${manifest.format}, not typed rows`, { details: { where: ref.stage } });
  }
  const schema = manifest.schema;
  async function* parts() {
    for (const part of manifest.parts) yield { part, stream: buffer.openPart(ref, part) };
  }
  return { schema, manifest, parts, rows: () => decodedParts(parts(), schema) };
}

/**
 * Decodes COPY-text parts into batches of rows. `layout` marks pass-through columns, whose cells stay
 * their COPY text (see CellLayout and src/stage/column-pruning.ts); without it every cell is decoded.
 */
export async function* decodedParts(parts: AsyncIterable<{ stream: Readable }>, schema: Schema, layout?: CellLayout): AsyncGenerator<Row[]> {
  const decode = rowsDecoder(schema, layout);
  for await (const { stream } of parts) {
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let rows: Row[] = [];
    // Rows are decoded from the text in place (see rowsDecoder). Each read is decoded in slices whose
    // strings stay below V8's large-object size (~128 KiB): they die in cheap young-generation
    // collections instead of piling up in old space until a full GC, which is what RSS measures.
    const add = (piece: string) => {
      const text = rest.length > 0 ? rest + piece : piece;
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        rest = text;
        return;
      }
      rest = text.slice(last + 1);
      decode(text, 0, last, rows);
    };
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const size = typeof chunk === 'string' ? 1 : chunk.length;
      for (let at = 0; at < size; at += DECODE_BYTES) {
        add(typeof chunk === 'string' ? chunk : decoder.write(chunk.subarray(at, at + DECODE_BYTES)));
        if (rows.length > 0) {
          yield rows;
          rows = [];
        }
      }
    }
    add(decoder.end());
    if (rest.length > 0) decode(rest, 0, rest.length, rows);
    if (rows.length > 0) yield rows;
  }
}
