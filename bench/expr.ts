/**
 * Expression throughput: `node dist/bench/expr.js [rows]`. Rows come from a pool of synthetic rows reused
 * cyclically, so the figure is the cost of evaluating, not of building millions of arrays.
 */
import type { Row, Schema } from '../src/core/schema.js';
import { compileExpression } from '../src/expr/index.js';

const ROWS = Number(process.argv[2] ?? 5_000_000);
const POOL = 1 << 16;

const schema: Schema = [
  { name: 'ts', type: 'timestamp' },
  { name: 'site_id', type: 'integer' },
  { name: 'country', type: 'string' },
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
];

const COUNTRIES = ['ES', 'FR', 'DE', 'IT', 'PT', 'US', 'GB', 'NL'];
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const pool: Row[] = Array.from({ length: POOL }, (_, i) => {
  const views = Math.floor(random() * 1000);
  return [
    Date.UTC(2026, 0, 1) + Math.floor(random() * 86_400_000 * 90),
    i % 500,
    COUNTRIES[Math.floor(random() * COUNTRIES.length)]!,
    random() < 0.02 ? null : views,
    Math.floor(random() * views * 0.3),
  ];
});

function measure(label: string, source: string): void {
  const expr = compileExpression(source, schema);
  let sink = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const v = expr.evaluate(pool[i & (POOL - 1)]!);
      if (v === true || (v !== null && v !== false)) sink++;
    }
  };
  run(200_000); // warm-up so the figure is for optimised code
  const start = process.hrtime.bigint();
  run(ROWS);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = Math.round(ROWS / seconds);
  console.log(`${label.padEnd(8)} ${source.padEnd(56)} ${ROWS} rows in ${seconds.toFixed(3)} s = ${(perSecond / 1e6).toFixed(1)} M rows/s (${sink} non-null/true)`);
}

measure('filter', "clicks / views > 0.1 and country in ('ES','FR')");
measure('derive', 'clicks / views');
measure('derive', 'date(ts)');
measure('derive', "concat(country, '-', site_id)");
measure('derive', "case when views > 500 then 'high' when views > 100 then 'mid' else 'low' end");
