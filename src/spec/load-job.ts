import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { SpecError } from '../core/errors.js';
import { TRANSFORMS } from '../../transforms/index.js';
import { didYouMean } from './closest.js';
import { jobSchema, type JobSpec } from './job-schema.js';
import { describeIssue } from './issues.js';
import { formatPath, formatProblem, locate, type SpecProblem } from './problems.js';
import { checkPipeline } from './static-check.js';

export interface LoadedJob {
  file: string;
  /** Folder relative paths in the job resolve against. */
  baseDir: string;
  spec: JobSpec;
  /** The job file's text, for fingerprinting what a run used. */
  source: string;
}

const PARAM = /\$\{param:([A-Za-z0-9_.-]+)\}/g;

/** Replaces `${param:NAME}` in every string of the parsed document; collects unknown names. */
function substituteParams(value: unknown, params: Record<string, string>, path: PropertyKey[], missing: Array<{ path: PropertyKey[]; name: string }>): unknown {
  if (typeof value === 'string') {
    // A value that is one whole reference takes the parameter's natural type, so numbers and booleans
    // can be parameters too (`max_reject_ratio: ${param:ratio}`).
    const whole = /^\$\{param:([A-Za-z0-9_.-]+)\}$/.exec(value);
    if (whole && params[whole[1]!] !== undefined) {
      const v = params[whole[1]!]!;
      if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
      if (v === 'true' || v === 'false') return v === 'true';
      return v;
    }
    return value.replace(PARAM, (ref, name: string) => {
      if (params[name] === undefined) {
        missing.push({ path, name });
        return ref;
      }
      return params[name];
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteParams(v, params, [...path, i], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteParams(v, params, [...path, k], missing)]));
  }
  return value;
}

/** Checks that each transform step is a one-key mapping naming a known transform (zod's union errors would be unreadable). */
function transformShapeProblems(raw: unknown): Array<{ path: PropertyKey[]; message: string }> {
  const t = (raw as { transform?: unknown } | null)?.transform;
  const steps = Array.isArray(t) ? t : Array.isArray((t as { steps?: unknown } | null)?.steps) ? ((t as { steps: unknown[] }).steps) : null;
  if (!steps) return [];
  const base: PropertyKey[] = Array.isArray(t) ? ['transform'] : ['transform', 'steps'];
  const known = Object.keys(TRANSFORMS);
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  steps.forEach((step, i) => {
    if (!step || typeof step !== 'object' || Array.isArray(step)) {
      out.push({ path: [...base, i], message: `expected a mapping like "- filter: views > 0"; known transforms: ${known.join(', ')}` });
      return;
    }
    const keys = Object.keys(step);
    if (keys.length !== 1) {
      out.push({ path: [...base, i], message: `a step names exactly one transform, found ${keys.length === 0 ? 'none' : keys.join(', ')} (indent its options under it)` });
      return;
    }
    const name = keys[0]!;
    if (!(name in TRANSFORMS)) out.push({ path: [...base, i, name], message: `unknown transform '${name}'${didYouMean(name, known)}; known transforms: ${known.join(', ')}` });
  });
  return out;
}

/**
 * Reads and validates a job file. Returns every problem found (never stops at the first), each with the
 * file, line, YAML path, the bad value and what is allowed.
 */
export function loadJobFile(file: string, options: { params?: Record<string, string> } = {}): { job: LoadedJob | null; problems: SpecProblem[] } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { job: null, problems: [{ file, line: 1, column: 1, path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot read: ${code ?? String(err)}` }] };
  }
  return parseJob(text, file, dirname(path), options.params ?? {});
}

export function parseJob(text: string, file: string, baseDir: string, params: Record<string, string>): { job: LoadedJob | null; problems: SpecProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true });
  const problems: SpecProblem[] = [];
  const at = (p: ReadonlyArray<PropertyKey>, message: string) => problems.push({ file, ...locate(doc, lines, p), path: formatPath(p), message });
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    problems.push({ file, line: pos.line, column: pos.col, path: '(yaml)', message: e.message.includes('parseAllDocuments') ? 'a job file holds one YAML document; found another after ---' : e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
  }
  if (problems.length > 0) return { job: null, problems };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (err) {
    // An undefined alias or an alias bomb: report it like any other problem, at the first alias.
    let line = 1;
    let column = 1;
    visit(doc, { Alias(_, node) {
      const pos = lines.linePos(node.range?.[0] ?? 0);
      [line, column] = [pos.line, pos.col];
      return visit.BREAK;
    } });
    problems.push({ file, line, column, path: '(yaml)', message: (err as Error).message.split('\n')[0]! });
    return { job: null, problems };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    at([], 'a job file is a mapping with job, extract, adapt, transform and load');
    return { job: null, problems };
  }
  const declared = ((raw as { params?: Record<string, string> }).params ?? {}) as Record<string, string>;
  const missing: Array<{ path: PropertyKey[]; name: string }> = [];
  const substituted = substituteParams(raw, { ...declared, ...params }, [], missing);
  for (const m of missing) at(m.path, `unknown parameter '${m.name}' (declare it under params: or pass --param ${m.name}=VALUE)`);
  for (const p of transformShapeProblems(raw)) at(p.path, p.message);
  if (problems.length > 0) return { job: null, problems };

  // Top-level `x-…` keys hold YAML anchors for reuse (the docker-compose convention); they are not settings.
  for (const key of Object.keys(substituted as object)) if (key.startsWith('x-')) delete (substituted as Record<string, unknown>)[key];
  const result = jobSchema.safeParse(substituted);
  if (!result.success) {
    for (const issue of result.error.issues as z.core.$ZodIssue[]) {
      const { path: p, message } = describeIssue(issue, substituted);
      at(p, message);
    }
    return { job: null, problems };
  }
  const spec = result.data as JobSpec;
  for (const p of checkPipeline(spec)) at(p.path, p.message);
  if (problems.length > 0) return { job: null, problems };
  return { job: { file, baseDir, spec, source: text }, problems };
}

/** Loads a job or throws one SpecError listing every problem (for `run`). */
export function loadJobOrThrow(file: string, params: Record<string, string> = {}): LoadedJob {
  const { job, problems } = loadJobFile(file, { params });
  if (!job) {
    throw new SpecError(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`, { details: { where: file, problems } });
  }
  return job;
}
