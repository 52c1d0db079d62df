import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI that stage processes run (`datamill stage …`). */
export const CLI_PATH = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * V8 flags of every stage process. Stages allocate hundreds of MB of short-lived rows but keep little
 * alive; V8's default old-space growth lets that garbage reach ~170 MB RSS at 1M rows and ~195 MB at 5M.
 * Growing at most 3× keeps adapt near 145 MB at 1M for ~4% more time; 2× (100) saved more memory
 * but cost ~18% (bench, adapt stage, 1M rows: default 2.36 s/166 MB, 200 → 2.46 s/144 MB, 100 → 2.78 s/128 MB).
 */
export const STAGE_NODE_FLAGS = ['--heap-growing-percent=200'];

let spare: ChildProcess | null = null;

/**
 * `datamill run` starts one stage process before it loads its own code: the first stage's start-up then
 * overlaps the CLI's. The spare waits for its arguments on stdin; unused, it exits when the CLI does.
 */
export function startSpareStage(): void {
  if (spare) return;
  spare = spawn(process.execPath, [...STAGE_NODE_FLAGS, CLI_PATH, 'stage', '--spare'], { stdio: ['pipe', 'pipe', 'pipe'] });
  spare.stdin!.on('error', () => undefined);
  spare.on('error', () => (spare = null));
}

/** The spare process, if there is one still waiting; each is handed out once. */
export function takeSpareStage(): ChildProcess | null {
  const s = spare;
  spare = null;
  return s && s.exitCode === null && s.signalCode === null ? s : null;
}
