import type { StageWriter, PartWriter } from '../buffer/buffer.js';
import { partName, type PartInfo } from '../buffer/manifest.js';
import { rowLineEncoder, type CellLayout } from '../core/row-codec.js';
import type { Row, Schema } from '../core/schema.js';

/** Below V8's large-object size (~128 KiB), so each joined chunk is young garbage, not old space (RSS). */
const FLUSH_CHARS = 64 * 1024;
const PART_BYTES = 256 * 1024 * 1024;

/**
 * Writes typed rows as COPY-text parts: encodes into a ~64 KB string before each write (one await per
 * hundreds of rows, not per row) and starts a new part every 256 MB so loads can stream part by part.
 */
export class TypedPartsWriter {
  private readonly encode: (row: Row) => string;
  private current: PartWriter | null = null;
  /** Lines (without newline) waiting for the next write; joined natively once per flush. */
  private pending: string[] = [];
  private pendingChars = 0;
  private rowsInPart = 0;
  private bytesInPart = 0;
  private readonly done: PartInfo[] = [];
  rows = 0;

  /** `layout` marks pass-through columns, whose cells are COPY text already (see CellLayout). */
  constructor(private readonly out: StageWriter, schema: Schema, layout?: CellLayout) {
    this.encode = rowLineEncoder(schema, layout);
  }

  /** Adds rows; resolves once they are handed to the buffer (backpressure). */
  async writeBatch(rows: Row[]): Promise<void> {
    const encode = this.encode;
    const pending = this.pending;
    let chars = this.pendingChars;
    for (let i = 0; i < rows.length; i++) {
      const line = encode(rows[i]!);
      chars += line.length + 1;
      pending.push(line);
    }
    this.pendingChars = chars;
    this.rowsInPart += rows.length;
    this.rows += rows.length;
    if (chars >= FLUSH_CHARS) await this.flush();
  }

  /** Adds rows already encoded as COPY-text lines (without their newline), as the adapt stage makes them. */
  async writeLines(lines: string[]): Promise<void> {
    const pending = this.pending;
    let chars = this.pendingChars;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      chars += line.length + 1;
      pending.push(line);
    }
    this.pendingChars = chars;
    this.rowsInPart += lines.length;
    this.rows += lines.length;
    if (chars >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    if (!this.current) this.current = this.out.part(partName(this.done.length, 'tsv'));
    const lines = this.pending;
    lines.push('');
    const text = lines.join('\n');
    this.pending = [];
    this.pendingChars = 0;
    this.bytesInPart += text.length;
    await this.current.write(text);
    if (this.bytesInPart >= PART_BYTES) await this.closePart();
  }

  private async closePart(): Promise<void> {
    if (!this.current) return;
    this.done.push(await this.current.close(this.rowsInPart));
    this.current = null;
    this.rowsInPart = 0;
    this.bytesInPart = 0;
  }

  async close(): Promise<PartInfo[]> {
    await this.flush();
    await this.closePart();
    return this.done;
  }
}

/** Rejected rows as NDJSON lines in `_rejects/`, each with the reason and where the row came from. */
export class RejectWriter {
  private part: PartWriter | null = null;
  private pending = '';
  rows = 0;

  constructor(private readonly out: StageWriter) {}

  add(reject: Record<string, unknown>): void {
    this.pending += JSON.stringify(reject) + '\n';
    this.rows++;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    this.part ??= this.out.rejectPart(partName(0, 'ndjson'));
    const text = this.pending;
    this.pending = '';
    await this.part.write(text);
  }

  async close(): Promise<PartInfo[]> {
    await this.flush();
    return this.part ? [await this.part.close(this.rows)] : [];
  }
}
