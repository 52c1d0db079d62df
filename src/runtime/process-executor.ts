import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Executor, TaskExit, TaskHandle, TaskSpec } from './executor.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const GRACE_MS = 5000;
/** setTimeout's limit (~24.8 days); a longer timeout would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const CLOCK_TICKS = 100;
/**
 * V8 flags of every stage process. A fixed 2× old-space growth: stages allocate hundreds of MB of
 * short-lived rows but keep little alive, and V8's default growth (up to 4× the live heap) lets that
 * garbage reach ~200 MB RSS on long inputs; 2× keeps it near 150 MB at the same speed (bench, 5M rows).
 */
const NODE_FLAGS = ['--heap-growing-percent=100'];

/** Reads peak RSS (VmHWM) and CPU time of a live process from /proc; null where /proc is not there. */
function sample(pid: number): { peakRssBytes: number; cpuSeconds: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0, cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/** Each stage in its own child process running `node dist/src/cli/main.js stage …`. */
export class ProcessExecutor implements Executor {
  readonly name = 'process';

  async start(task: TaskSpec): Promise<TaskHandle> {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...task.args], {
      env: { ...process.env, ...task.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid ?? -1;
    let usage: TaskExit['usage'] = { peakRssBytes: null, cpuSeconds: null };
    const sampler = setInterval(() => {
      const s = sample(pid);
      if (s) usage = s;
    }, 250);
    sampler.unref();
    createInterface({ input: child.stdout! }).on('line', (l) => task.onLine(l, 'stdout'));
    createInterface({ input: child.stderr! }).on('line', (l) => task.onLine(l, 'stderr'));
    let timedOut = false;
    let cancelled = false;
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
      killer.unref();
    };
    const timer = task.timeoutMs ? setTimeout(() => ((timedOut = true), stop()), Math.min(task.timeoutMs, MAX_TIMER_MS)) : undefined;
    const exited = new Promise<TaskExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearInterval(sampler);
        if (timer) clearTimeout(timer);
        if (killer) clearTimeout(killer);
        resolve({ code, signal, timedOut, cancelled, usage });
      });
    });
    return {
      id: String(pid),
      wait: () => exited,
      cancel: () => {
        cancelled = true;
        stop();
      },
    };
  }
}
