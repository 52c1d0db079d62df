import type { Readable } from 'node:stream';
import type { PartInfo } from '../../src/buffer/manifest.js';
import type { RawBatch, RawReader } from '../../src/core/connector.js';
import { partText } from '../csv/part-text.js';
import { BATCH_RECORDS } from '../csv/reader.js';

const CR = 13;
const RAW_CHARS = 200;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Reads one NDJSON part from any Readable of its bytes as batches of parsed objects. */
export async function* readNdjsonPart(part: PartInfo, stream: Readable, signal?: AbortSignal): AsyncGenerator<RawBatch> {
  const origin = part.origin ?? part.name;
  let records: Array<Record<string, unknown>> = [];
  let lines: number[] = [];
  let broken: NonNullable<RawBatch['broken']> = [];
  let line = 1;
  let rest = '';

  const addLine = (text: string, start: number, end: number) => {
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    if (end > start) {
      const raw = text.slice(start, end);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        broken.push({ line, raw: raw.slice(0, RAW_CHARS), reason: `invalid JSON: ${(err as Error).message}` });
        line++;
        return;
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        records.push(value as Record<string, unknown>);
        lines.push(line);
      } else {
        broken.push({ line, raw: raw.slice(0, RAW_CHARS), reason: `not a JSON object: the line holds ${kindOf(value)}` });
      }
    }
    line++;
  };
  const take = (): RawBatch | null => {
    if (records.length === 0 && broken.length === 0) return null;
    const out: RawBatch = { origin, columns: null, records, lines };
    if (broken.length > 0) out.broken = broken;
    records = [];
    lines = [];
    broken = [];
    return out;
  };

  for await (const chunk of partText(part, stream, 'utf8', signal)) {
    const text = rest.length > 0 ? rest + chunk : chunk;
    let pos = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', pos)) {
      addLine(text, pos, nl);
      pos = nl + 1;
    }
    rest = pos < text.length ? text.slice(pos) : '';
    if (records.length + broken.length >= BATCH_RECORDS) {
      const b = take();
      if (b) yield b;
    }
  }
  if (rest.length > 0) addLine(rest, 0, rest.length);
  const last = take();
  if (last) yield last;
}

/** Reads raw NDJSON parts back in manifest order (used by adapt). */
export const ndjsonReader: RawReader = {
  async *read(manifest, open, ctx) {
    for (const part of manifest.parts) {
      yield* readNdjsonPart(part, open(part), ctx.signal);
    }
  },
};
