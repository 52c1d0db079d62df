import { isMap, isSeq, LineCounter, type Document } from 'yaml';

/** One thing wrong with a job file, pointing at the line and the YAML path. */
export interface SpecProblem {
  file: string;
  line: number;
  column: number;
  /** YAML path like `load.mode` or `transform[1].filter`. */
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out.length === 0 ? String(p) : `.${String(p)}`;
  }
  return out || '(top level)';
}

export function formatProblem(p: SpecProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`;
}

/**
 * Finds where a path points in the YAML source. When the path goes past what exists (a missing key), it
 * points at the deepest node that does exist; when it names a key, at the key itself.
 */
export function locate(doc: Document, lines: LineCounter, path: ReadonlyArray<PropertyKey>): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      const k = pair.key as { range?: [number, number, number] } | null;
      const v = pair.value as { range?: [number, number, number] } | null;
      offset = v?.range?.[0] ?? k?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}
