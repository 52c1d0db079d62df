import { relative, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { BrokenJobFile } from './control.js';
import { formatProblem, type SpecProblem } from '../spec/problems.js';
import { checkDependencies, jobFilesIn, loadScheduledJob, type ScheduledJob } from '../schedule/scheduled-job.js';

export interface JobFolderState {
  jobs: ScheduledJob[];
  broken: BrokenJobFile[];
}

/**
 * The jobs folder as the server sees it: every job file loaded, checked across files (`after:`), and
 * watched. An added, changed or removed file takes effect on the next `onChange`; a broken file is
 * reported and skipped while the others keep running.
 */
export class JobFolder {
  private readonly dir: string;
  private readonly loaded = new Map<string, { job: ScheduledJob | null; problems: SpecProblem[] }>();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  state: JobFolderState = { jobs: [], broken: [] };

  constructor(dir: string, private readonly onChange: (state: JobFolderState) => void) {
    this.dir = resolve(dir);
  }

  /** Loads every file now, then watches the folder (inotify, no polling). */
  async start(): Promise<JobFolderState> {
    for (const path of jobFilesIn(this.dir)) this.load(path);
    this.state = this.evaluate();
    const watcher = watch(this.dir, {
      ignoreInitial: true,
      ignored: (path, stats) => relative(this.dir, path).split('/').some((p) => p.startsWith('.')) || (stats?.isFile() === true && !/\.ya?ml$/.test(path)),
      // Editors write in several steps; read a file once its size has settled.
      awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 },
    });
    this.watcher = watcher;
    const changed = (path: string, removed = false) => {
      if (!/\.ya?ml$/.test(path)) return;
      if (removed) this.loaded.delete(path);
      else this.load(path);
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.state = this.evaluate();
        this.onChange(this.state);
      }, 50);
    };
    watcher.on('add', (p) => changed(String(p))).on('change', (p) => changed(String(p))).on('unlink', (p) => changed(String(p), true));
    await new Promise<void>((done) => watcher.once('ready', () => done()));
    return this.state;
  }

  private load(path: string): void {
    this.loaded.set(path, loadScheduledJob(path, relative(this.dir, path)));
  }

  private evaluate(): JobFolderState {
    const entries = [...this.loaded.values()];
    const { jobs, problems } = checkDependencies(entries.flatMap((e) => (e.job ? [e.job] : [])), entries.flatMap((e) => e.problems));
    const byFile = new Map<string, string[]>();
    for (const p of problems) byFile.set(p.file, [...(byFile.get(p.file) ?? []), formatProblem(p)]);
    return { jobs, broken: [...byFile].map(([file, list]) => ({ file, problems: list })).sort((a, b) => a.file.localeCompare(b.file)) };
  }

  async close(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    await this.watcher?.close();
  }
}
