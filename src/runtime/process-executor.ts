import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Executor, PreparedTask, TaskExit, TaskHandle, TaskSpec } from './executor.js';
import { CLI_PATH, STAGE_NODE_FLAGS, takeSpareStage } from './spare-stage.js';

const GRACE_MS = 5000;
/** setTimeout's limit (~24.8 days); a longer timeout would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const CLOCK_TICKS = 100;

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
    return this.spawnTask(task, false).go(task);
  }

  prepare(task: Pick<TaskSpec, 'args' | 'env'>): PreparedTask {
    return this.spawnTask(task, true);
  }

  /**
   * Spawns the stage process. Held, it loads its modules and waits for "go" on stdin (DESIGN §4's
   * command, unchanged otherwise); its output is kept until `go` hands over the line handler.
   */
  private spawnTask(task: Pick<TaskSpec, 'args' | 'env'>, hold: boolean): PreparedTask {
    // A task to start now takes the spare process `datamill run` started early, if it is still there.
    const spare = hold ? null : takeSpareStage();
    if (spare) spare.stdin!.write(JSON.stringify({ args: task.args, env: task.env }) + '\n');
    const child = spare ?? spawn(process.execPath, [...STAGE_NODE_FLAGS, CLI_PATH, ...task.args], {
      env: { ...process.env, ...task.env, ...(hold ? { DATAMILL_STAGE_HOLD: '1' } : {}) },
      stdio: [hold ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => undefined);
    const pid = child.pid ?? -1;
    let usage: TaskExit['usage'] = { peakRssBytes: null, cpuSeconds: null };
    const sampler = setInterval(() => {
      const s = sample(pid);
      if (s) usage = s;
    }, 250);
    sampler.unref();
    const early: Array<[string, 'stdout' | 'stderr']> = [];
    let onLine: TaskSpec['onLine'] | null = null;
    const deliver = (stream: 'stdout' | 'stderr') => (l: string) => (onLine ? onLine(l, stream) : early.push([l, stream]));
    createInterface({ input: child.stdout! }).on('line', deliver('stdout'));
    createInterface({ input: child.stderr! }).on('line', deliver('stderr'));
    let timedOut = false;
    let cancelled = false;
    let killer: NodeJS.Timeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    let exitedAlready = false;
    let released = false;
    const stop = () => {
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
      killer.unref();
    };
    const exited = new Promise<TaskExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        exitedAlready = true;
        clearInterval(sampler);
        if (timer) clearTimeout(timer);
        if (killer) clearTimeout(killer);
        resolve({ code, signal, timedOut, cancelled, usage });
      });
    });
    exited.catch(() => undefined);
    return {
      alive: () => !exitedAlready,
      go(spec) {
        released = true;
        onLine = spec.onLine;
        for (const [l, stream] of early.splice(0)) spec.onLine(l, stream);
        if (spec.timeoutMs && !exitedAlready) {
          timer = setTimeout(() => ((timedOut = true), stop()), Math.min(spec.timeoutMs, MAX_TIMER_MS));
          timer.unref();
        }
        child.stdin?.end('go\n');
        return {
          id: String(pid),
          wait: () => exited,
          cancel: () => {
            cancelled = true;
            stop();
          },
        };
      },
      discard() {
        if (released || exitedAlready) return;
        released = true;
        // Closing stdin without "go" makes a held stage exit quietly.
        child.stdin?.end();
        setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
      },
    };
  }
}
