import type { StageName } from '../buffer/manifest.js';
import type { RunEvent } from '../runtime/run-job.js';
import { formatDuration } from '../spec/units.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Shows a run as it goes: a live bar (stage, rows, rows/s, % of the input when known) on a TTY, plain
 * lines otherwise (CI logs, pipes), so output stays readable in both.
 */
export function progressReporter(out: NodeJS.WriteStream, tty = out.isTTY === true): (e: RunEvent) => void {
  let stage: StageName | null = null;
  let started = 0;
  let total: number | null = null;
  let lastDraw = 0;
  const line = (s: string) => out.write(tty ? `\r\x1b[2K${s}\n` : `${s}\n`);
  return (e) => {
    switch (e.type) {
      case 'run-start':
        line(`run ${e.run.id} of ${e.run.job}: ${e.stages.join(' → ')}`);
        break;
      case 'stage-start':
        stage = e.stage;
        started = Date.now();
        total = e.totalRows;
        if (!tty) line(`${e.stage}: started (attempt ${e.attempt})`);
        break;
      case 'progress': {
        const now = Date.now();
        if (!tty || now - lastDraw < 100) break;
        lastDraw = now;
        const secs = Math.max((now - started) / 1000, 0.001);
        const rate = fmt(Math.round(e.rows / secs));
        let bar = '';
        if (total && total > 0) {
          const f = Math.min(e.rows / total, 1);
          const width = 24;
          bar = `[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${(f * 100).toFixed(0).padStart(3)}% `;
        }
        out.write(`\r\x1b[2K${(stage ?? '').padEnd(9)} ${bar}${fmt(e.rows)} rows  ${rate} rows/s`);
        break;
      }
      case 'stage-end': {
        const f = e.outcome.figures;
        const took = formatDuration(Date.now() - started);
        if (e.outcome.ok) {
          const rows = f.rows_out ?? f.rows_loaded ?? 0;
          const rej = typeof f.rows_rejected === 'number' && f.rows_rejected > 0 ? `, ${fmt(f.rows_rejected)} rejected` : '';
          const target = typeof f.target === 'string' ? ` → ${f.target}` : '';
          line(`${e.stage.padEnd(9)} ok   ${fmt(Number(rows))} rows${rej}${target}  (${took})`);
        } else line(`${e.stage.padEnd(9)} FAIL attempt ${e.attempt}: ${e.outcome.error?.message ?? ''}`);
        break;
      }
      case 'retry':
        line(`${e.stage.padEnd(9)} retrying in ${formatDuration(e.delayMs)} (attempt ${e.attempt + 1})`);
        break;
      case 'run-end':
        break;
    }
  };
}
