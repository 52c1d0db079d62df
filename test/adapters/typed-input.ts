import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import { partName, type StageRef } from '../../src/buffer/manifest.js';
import type { TypedInput } from '../../src/core/connector.js';
import { rowEncoder } from '../../src/core/row-codec.js';
import { typedInput } from '../../src/stage/typed-input.js';
import type { Row, Schema } from '../../src/core/schema.js';

/** One column of every field type, for sinks' round-trip tests. */
export const ALL_TYPES: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'string' },
  { name: 'ratio', type: 'number' },
  { name: 'price', type: 'decimal' },
  { name: 'ok', type: 'boolean' },
  { name: 'ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'doc', type: 'json' },
];

export interface BufferedInput {
  input: TypedInput;
  /** Where the buffer is, so another process can open the same input. */
  root: string;
  ref: StageRef;
  cleanup(): void;
}

/** Opens a committed transform output as a load's TypedInput, the way the runtime hands it over. */
export async function openTypedInput(root: string, ref: StageRef): Promise<TypedInput> {
  const buffer = new FileBuffer(`file://${root}`, root);
  const manifest = await buffer.readManifest(ref);
  if (!manifest || !manifest.schema) throw new Error(`no typed output at ${root} for ${JSON.stringify(ref)}`);
  return typedInput(buffer, ref, manifest);
}

/**
 * Writes rows as a committed transform output in a real FileBuffer (COPY text parts + manifest) and
 * returns it as a TypedInput. `partRows` splits the rows over several parts.
 */
export async function bufferedInput(schema: Schema, rows: Row[], options: { run?: string; partRows?: number } = {}): Promise<BufferedInput> {
  const root = mkdtempSync(join(tmpdir(), 'datamill-input-'));
  const ref: StageRef = { tenant: 'default', job: 'test-job', run: options.run ?? 'run-1', stage: 'transform' };
  const buffer = new FileBuffer(`file://${root}`, root);
  const writer = await buffer.begin(ref, 1);
  const encode = rowEncoder(schema);
  const per = Math.max(1, options.partRows ?? (rows.length || 1));
  const parts = [];
  for (let start = 0, i = 0; start < rows.length || (rows.length === 0 && i === 0); start += per, i++) {
    const part = writer.part(partName(i, 'tsv'));
    const slice = rows.slice(start, start + per);
    if (slice.length > 0) await part.write(slice.map(encode).join(''));
    parts.push(await part.close(slice.length));
    if (rows.length === 0) break;
  }
  await writer.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'transform', attempt: 1, format: 'tsv', schema, parts, figures: {} });
  return { input: await openTypedInput(root, ref), root, ref, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
