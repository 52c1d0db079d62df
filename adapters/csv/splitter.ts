/**
 * Splits CSV text into records of string fields, fed chunk by chunk.
 *
 * Two paths: a line without the quote character (nearly all lines of real exports) is cut with indexOf
 * and `String.prototype.split`, which V8 does in native code; only a line holding a quote goes through a
 * resumable state machine that can stop at any character of a chunk and continue with the next one, so a
 * quoted field may span chunks without rescanning and without joining chunks.
 */

export interface CsvDialect {
  delimiter: string;
  quote: string;
  /** Equal to `quote` for doubled quotes (RFC 4180), or another character (usually a backslash). */
  escape: string;
}

export interface BrokenRecord {
  line: number;
  raw: string;
  reason: string;
}

const LF = 10;
const CR = 13;
const RAW_CHARS = 200;
/** A record longer than this is almost surely a quote that never closes: stop keeping it in memory. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

// State machine states (only used for records that contain a quote).
const START = 0; // at the start of a field
const UNQUOTED = 1; // inside an unquoted field
const QUOTED = 2; // inside a quoted field
const AFTER_QUOTE = 3; // just after a quote inside a quoted field: closing, or the first half of ""
const ESCAPED = 4; // just after the escape character inside a quoted field

export class CsvSplitter {
  /** Records completed so far; take them with `take()`. */
  records: string[][] = [];
  /** 1-based line where each record starts. */
  lines: number[] = [];
  broken: BrokenRecord[] = [];

  private readonly delimiter: string;
  private readonly delimCode: number;
  private readonly quote: string;
  private readonly quoteCode: number;
  private readonly escape: string;
  private readonly escapeCode: number;
  private readonly escapeIsQuote: boolean;

  /** Text after the last complete line, waiting for the next chunk. */
  private rest = '';
  /** Line number at the scan position. */
  private line = 1;
  /** A record with a quote is open across chunks. */
  private open = false;
  private state = START;
  private fields: string[] = [];
  private field = '';
  private recordLine = 0;
  private rawHead = '';
  private recordChars = 0;
  private oversized = false;

  constructor(dialect: CsvDialect) {
    for (const [name, value] of Object.entries(dialect)) {
      if (typeof value !== 'string' || value.length !== 1) throw new RangeError(`csv ${name} must be one character, got ${JSON.stringify(value)}`);
    }
    this.delimiter = dialect.delimiter;
    this.delimCode = dialect.delimiter.charCodeAt(0);
    this.quote = dialect.quote;
    this.quoteCode = dialect.quote.charCodeAt(0);
    this.escape = dialect.escape;
    this.escapeCode = dialect.escape.charCodeAt(0);
    this.escapeIsQuote = dialect.escape === dialect.quote;
  }

  /** An unquoted line past MAX_RECORD_CHARS is being skipped up to its newline (memory stays bounded). */
  private skipping = false;

  /** Feeds the next piece of text. */
  push(chunk: string): void {
    if (this.skipping) {
      const nl = chunk.indexOf('\n');
      if (nl === -1) return;
      this.skipping = false;
      this.line++;
      chunk = chunk.slice(nl + 1);
    }
    const text = this.rest.length > 0 ? this.rest + chunk : chunk;
    this.rest = '';
    this.scan(text, false);
    if (this.rest.length > MAX_RECORD_CHARS) {
      this.broken.push({ line: this.line, raw: this.rest.slice(0, 200), reason: `line ${this.line} is longer than ${MAX_RECORD_CHARS / 1024 / 1024} MiB without a line break (wrong line endings?)` });
      this.rest = '';
      this.skipping = true;
    }
  }

  /** Ends the input: the last line without a newline becomes a record, an open quote a broken entry. */
  end(): void {
    if (this.skipping) return;
    const text = this.rest;
    this.rest = '';
    this.scan(text, true);
  }

  /** Hands over the records (and broken entries) completed so far. */
  take(): { records: string[][]; lines: number[]; broken: BrokenRecord[] } {
    const taken = { records: this.records, lines: this.lines, broken: this.broken };
    this.records = [];
    this.lines = [];
    this.broken = [];
    return taken;
  }

  private scan(text: string, final: boolean): void {
    const len = text.length;
    let pos = 0;
    if (this.open) {
      pos = this.quoted(text, 0, final);
      if (this.open) return;
    }
    const quote = this.quote;
    const delimiter = this.delimiter;
    const records = this.records;
    const lines = this.lines;
    let line = this.line;
    let q = text.indexOf(quote, pos);
    while (pos < len) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) {
        if (!final) break;
        nl = len;
      }
      if (q !== -1 && q < pos) q = text.indexOf(quote, pos);
      if (q === -1 || q > nl) {
        let end = nl;
        if (end > pos && text.charCodeAt(end - 1) === CR) end--;
        if (end > pos) {
          records.push(text.slice(pos, end).split(delimiter));
          lines.push(line);
        }
        line++;
        pos = nl + 1;
      } else {
        this.line = line;
        pos = this.quoted(text, pos, final);
        if (this.open) return;
        line = this.line;
      }
    }
    this.line = line;
    this.rest = pos < len ? text.slice(pos) : '';
  }

  /**
   * Runs the state machine from `start`: returns the position after the record's line end, or the end of
   * the text with `open` set when the record continues in the next chunk.
   */
  private quoted(text: string, start: number, final: boolean): number {
    const len = text.length;
    const quote = this.quote;
    const quoteCode = this.quoteCode;
    const delimCode = this.delimCode;
    let state = this.state;
    let field = this.field;
    let line = this.line;
    let fields = this.fields;
    if (!this.open) {
      this.open = true;
      this.recordLine = line;
      this.rawHead = '';
      this.recordChars = 0;
      this.oversized = false;
    }
    if (this.rawHead.length < RAW_CHARS) this.rawHead += text.slice(start, start + RAW_CHARS - this.rawHead.length);
    let i = start;
    let ended = false;
    scanning: while (i < len) {
      switch (state) {
        case START:
          if (text.charCodeAt(i) === quoteCode) {
            state = QUOTED;
            i++;
          } else {
            state = UNQUOTED;
          }
          break;
        case UNQUOTED: {
          let j = i;
          let c = 0;
          while (j < len) {
            c = text.charCodeAt(j);
            if (c === delimCode || c === LF) break;
            j++;
          }
          field += text.slice(i, j);
          if (j === len) {
            i = len;
            break;
          }
          i = j + 1;
          if (c === delimCode) {
            fields.push(field);
            field = '';
            state = START;
          } else {
            if (field.charCodeAt(field.length - 1) === CR) field = field.slice(0, -1);
            fields.push(field);
            line++;
            ended = true;
            break scanning;
          }
          break;
        }
        case QUOTED: {
          let j = text.indexOf(quote, i);
          if (!this.escapeIsQuote) {
            const k = text.indexOf(this.escape, i);
            if (k !== -1 && (j === -1 || k < j)) j = k;
          }
          const stop = j === -1 ? len : j;
          for (let n = text.indexOf('\n', i); n !== -1 && n < stop; n = text.indexOf('\n', n + 1)) line++;
          field += text.slice(i, stop);
          if (j === -1) {
            i = len;
            break;
          }
          state = text.charCodeAt(j) === quoteCode ? AFTER_QUOTE : ESCAPED;
          i = j + 1;
          break;
        }
        case ESCAPED:
          if (text.charCodeAt(i) === LF) line++;
          field += text[i];
          i++;
          state = QUOTED;
          break;
        case AFTER_QUOTE: {
          const c = text.charCodeAt(i);
          if (c === quoteCode && this.escapeIsQuote) {
            field += quote;
            i++;
            state = QUOTED;
          } else if (c === delimCode) {
            fields.push(field);
            field = '';
            state = START;
            i++;
          } else if (c === LF) {
            fields.push(field);
            line++;
            i++;
            ended = true;
            break scanning;
          } else if (c === CR) {
            i++;
          } else {
            // Text after a closing quote ("ab"cd): kept literally rather than failing the whole file.
            state = UNQUOTED;
          }
          break;
        }
      }
    }
    if (ended) {
      this.finish(fields, line);
      return i;
    }
    // Reached the end of the text inside the record.
    if (!final) {
      this.recordChars += len - start;
      if (this.recordChars > MAX_RECORD_CHARS) {
        this.oversized = true;
        fields = [];
        field = '';
      }
      this.state = state;
      this.field = field;
      this.fields = fields;
      this.line = line;
      return len;
    }
    if (state === QUOTED || state === ESCAPED) {
      this.broken.push({ line: this.recordLine, raw: this.rawHead, reason: `unterminated quoted field starting at line ${this.recordLine}` });
      this.reset(line);
      return len;
    }
    if (state === UNQUOTED && field.charCodeAt(field.length - 1) === CR) field = field.slice(0, -1);
    fields.push(field);
    this.finish(fields, line);
    return len;
  }

  private finish(fields: string[], line: number): void {
    if (this.oversized) {
      this.broken.push({ line: this.recordLine, raw: this.rawHead, reason: `record starting at line ${this.recordLine} is longer than ${MAX_RECORD_CHARS / 1024 / 1024} MiB (a quote that never closes?)` });
    } else {
      this.records.push(fields);
      this.lines.push(this.recordLine);
    }
    this.reset(line);
  }

  private reset(line: number): void {
    this.open = false;
    this.state = START;
    this.fields = [];
    this.field = '';
    this.line = line;
    this.rawHead = '';
  }
}
