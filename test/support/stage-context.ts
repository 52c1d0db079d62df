import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageName } from '../../src/buffer/manifest.js';
import type { StageContext, StageLogger } from '../../src/core/stage-context.js';
import { resolveSecrets } from '../../src/spec/secrets.js';

export interface CapturedLog {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
}

/** A real StageContext for connector and transform tests; log lines are kept for assertions. */
export function testStageContext(options: { stage?: StageName; attempt?: number; baseDir?: string; run?: string } = {}): StageContext & { logs: CapturedLog[]; rows: number } {
  const logs: CapturedLog[] = [];
  const entry = (level: string) => (message: string, meta?: Record<string, unknown>) => {
    logs.push(meta === undefined ? { level, message } : { level, message, meta });
  };
  const log: StageLogger = { fatal: entry('fatal'), error: entry('error'), warn: entry('warn'), info: entry('info'), debug: entry('debug') };
  const baseDir = options.baseDir ?? process.cwd();
  const ctx = {
    tenant: 'default',
    job: 'test-job',
    run: options.run ?? `run-${Date.now().toString(36)}`,
    stage: options.stage ?? 'extract',
    attempt: options.attempt ?? 1,
    log,
    signal: new AbortController().signal,
    rows: 0,
    progress(n: number) {
      ctx.rows += n;
    },
    baseDir,
    tmpDir: mkdtempSync(join(tmpdir(), 'datamill-stage-')),
    secret: (v: string) => resolveSecrets(v, baseDir),
    logs,
  };
  return ctx;
}
