import type { Executor, TaskHandle, TaskSpec } from './executor.js';

const DONE = { code: 0, signal: null, timedOut: false, cancelled: false, usage: { peakRssBytes: null, cpuSeconds: null } };

/**
 * For `npm run bench:scheduler` only: `serve` with DATAMILL_BENCH_NOOP_STAGES=1 runs every stage as
 * this task, which reports success at once without a process. What remains is the server's own path from
 * a fire to its run (records, buffer spec, pool, logs): what the benchmark measures. Never for real jobs,
 * which would "succeed" without doing anything; the server logs a warning when it is set.
 */
export class NoopStageExecutor implements Executor {
  readonly name = 'noop';

  async start(task: TaskSpec): Promise<TaskHandle> {
    task.onLine(JSON.stringify({ type: 'result', ok: true, figures: {} }), 'stdout');
    return { id: 'noop', wait: async () => DONE, cancel: () => undefined };
  }
}
