import type { StageBuffer } from '../buffer/buffer.js';
import type { Manifest, StageRef } from '../buffer/manifest.js';
import type { TypedInput } from '../core/connector.js';
import { BufferError } from '../core/errors.js';
import { lineBatches } from '../core/lines.js';
import { rowDecoder } from '../core/row-codec.js';
import type { Row } from '../core/schema.js';

/** A committed typed stage output, readable as raw COPY-text parts or as decoded rows. */
export function typedInput(buffer: StageBuffer, ref: StageRef, manifest: Manifest): TypedInput {
  if (manifest.format !== 'tsv' || !manifest.schema) {
    throw new BufferError(`${ref.stage} output of run ${ref.run} is ${manifest.format}, not typed rows`, { details: { where: ref.stage } });
  }
  const schema = manifest.schema;
  return {
    schema,
    manifest,
    async *parts() {
      for (const part of manifest.parts) yield { part, stream: buffer.openPart(ref, part) };
    },
    async *rows() {
      const decode = rowDecoder(schema);
      for (const part of manifest.parts) {
        for await (const lines of lineBatches(buffer.openPart(ref, part))) {
          const rows: Row[] = new Array(lines.length);
          for (let i = 0; i < lines.length; i++) rows[i] = decode(lines[i]!);
          yield rows;
        }
      }
    },
  };
}
