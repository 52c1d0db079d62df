import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { Manifest, StageRef } from '../../src/buffer/manifest.js';
import type { CursorRange, ExtractResult, Source } from '../../src/core/connector.js';
import { testStageContext, type CapturedLog } from './stage-context.js';

export interface Committed {
  result: ExtractResult;
  manifest: Manifest;
  buffer: FileBuffer;
  ref: StageRef;
  logs: CapturedLog[];
}

/**
 * Runs a source's extract into a real FileBuffer and commits it as the stage does. A failed extract is
 * rethrown with the log lines it wrote attached (`logs`), so tests can check what was logged.
 */
export async function extractCommitted(source: Source, range?: CursorRange): Promise<Committed> {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-extract-'));
  const buffer = new FileBuffer(`file://${dir}`, dir);
  const ctx = testStageContext();
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract' };
  const out = await buffer.begin(ref, 1);
  let result: ExtractResult;
  try {
    result = await source.extract(ctx, out, range);
  } catch (err) {
    await out.abort();
    throw Object.assign(err as Error, { logs: ctx.logs });
  }
  const manifest = await out.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'extract', attempt: 1, format: result.format, ...(result.csv ? { csv: result.csv } : {}), parts: result.parts, figures: {} });
  return { result, manifest, buffer, ref, logs: ctx.logs };
}
