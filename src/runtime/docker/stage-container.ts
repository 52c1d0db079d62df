import { chown, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileBufferRoot } from '../../buffer/file-buffer.js';
import { SpecError } from '../../core/errors.js';
import type { StageName } from '../../buffer/manifest.js';
import type { JobSpec } from '../../spec/job-schema.js';
import type { TaskSpec } from '../executor.js';
import { runnerId } from '../orphans.js';
import { stageSection } from '../stage-section.js';
import type { ContainerRequest } from './container-task.js';

/** Connectors that only touch files: their stages get no network at all. */
const FILE_SOURCES = new Set(['csv', 'ndjson']);
const FILE_SINKS = new Set(['file']);

/** The image of a stage: its own `image:`, else the job's, else DATAMILL_IMAGE, else this version's. */
export function stageImage(spec: JobSpec, stage: StageName, version: string, env: NodeJS.ProcessEnv = process.env): string {
  return stageSection(spec, stage).image ?? spec.image ?? env.DATAMILL_IMAGE ?? `datamill:${version}`;
}

/** Extract and load of network connectors reach their servers through the host's network; nothing else does. */
export function stageNetwork(spec: JobSpec, stage: StageName): 'none' | 'host' {
  if (!spec.buffer.startsWith('file://') && /^[a-z0-9+.-]+:\/\//i.test(spec.buffer)) return 'host';
  if (stage === 'extract') return FILE_SOURCES.has(spec.extract.from) ? 'none' : 'host';
  if (stage === 'load') return FILE_SINKS.has(spec.load.to) ? 'none' : 'host';
  return 'none';
}

/**
 * The container user: the invoking user when it is not root; when Datamill runs as root, an unprivileged
 * uid (1000, the image's `node` user) — never root. DATAMILL_CONTAINER_USER overrides (`uid:gid`).
 */
export function containerUser(env: NodeJS.ProcessEnv = process.env): { uid: number; gid: number } {
  const forced = env.DATAMILL_CONTAINER_USER;
  if (forced) {
    const m = /^(\d+)(?::(\d+))?$/.exec(forced.trim());
    if (!m || Number(m[1]) === 0) throw new SpecError(`DATAMILL_CONTAINER_USER=${forced}: expected UID:GID of an unprivileged user, like 1000:1000 (containers never run as root)`, { details: { where: 'DATAMILL_CONTAINER_USER', value: forced, expected: 'UID:GID, UID above 0' } });
    const uid = Number(m[1]);
    return { uid, gid: m[2] === undefined ? uid : Number(m[2]) };
  }
  const uid = process.getuid?.() ?? 1000;
  return uid === 0 ? { uid: 1000, gid: 1000 } : { uid, gid: process.getgid?.() ?? uid };
}

function argValue(args: string[], name: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] ?? '' : '';
}

/** The folder part of a glob ("data/events-*.csv" → "data", "events-*.csv" → "."), the part a mount must cover. */
function globRoot(path: string): string {
  const parts = path.split('/');
  const i = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  if (i < 0) return dirname(path);
  return parts.slice(0, i).join('/') || (path.startsWith('/') ? '/' : '.');
}

const inside = (dir: string, path: string) => {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

/** Gives the container user its run folder in the buffer (what a stage writes), when Datamill runs as root. */
async function handOver(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await handOver(path, uid, gid);
    else if (!(await lstat(path)).isSymbolicLink()) await chown(path, uid, gid);
  }
}

/**
 * A mounted path keeps its owner and mode inside the container: one the container user cannot read (a
 * mkdtemp folder, /root) or write (an output folder root made earlier) would fail the stage with EACCES
 * deep in its connector. Said up front instead, with the fix.
 */
async function assertAccess(path: string, user: { uid: number; gid: number }, access: 'read' | 'write'): Promise<void> {
  if (user.uid === 0) return;
  const s = await stat(path).catch(() => null);
  if (!s) return;
  const bits = s.uid === user.uid ? (s.mode >> 6) & 7 : s.gid === user.gid ? (s.mode >> 3) & 7 : s.mode & 7;
  // A folder is entered (x) to reach anything in it; its w lets files be created and renamed there.
  const need = (access === 'read' ? 4 : 2) | (s.isDirectory() ? 1 : 0);
  if ((bits & need) === need) return;
  const mode = (s.mode & 0o777).toString(8).padStart(4, '0');
  const chmod = `chmod o+${access === 'read' ? 'r' : 'w'}${s.isDirectory() ? 'x' : ''}`;
  // Containers never run as root, so root's paths have one fix: opening them.
  const owner = s.uid === 0 ? '' : `, or run the containers as its owner with DATAMILL_CONTAINER_USER=${s.uid}:${s.gid}`;
  throw new SpecError(`${path} is mounted into the stage containers but their user ${user.uid}:${user.gid} cannot ${access} it (mode ${mode}, owner ${s.uid}:${s.gid}): ${chmod} it${owner}`, {
    details: { where: path, value: mode, expected: `${access === 'read' ? 'readable' : 'writable'} by ${user.uid}:${user.gid}` },
  });
}

/** Folders Datamill creates for a container (as root) belong to the container user, who writes there. */
async function makeFolder(dir: string, user: { uid: number; gid: number }): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (!first || process.getuid?.() !== 0 || user.uid === 0) return;
  for (let d = dir; ; d = dirname(d)) {
    await chown(d, user.uid, user.gid);
    if (d === first || d === dirname(d)) break;
  }
}

/**
 * V8 sizes its young generation from the memory it sees: under a 512Mi limit it takes ~1 MB semi-spaces
 * where a large host gives 16 MB, and a stage allocating an object per row then spends about twice the
 * CPU in scavenges (bench: adapt of 200k rows, 3.4 → 2.0 cpu-s). The host's size when the limit allows
 * (up to 1/32 of it: the young generation holds three semi-spaces).
 */
export function stageNodeOptions(memoryBytes: number): string {
  const mb = Math.max(1, Math.min(16, Math.floor(memoryBytes / 2 ** 20 / 32)));
  return `--max-semi-space-size=${mb}`;
}

/**
 * Everything a stage container gets: the run's folder in the file buffer (read-write), the job's folder
 * (read-only), the files its connector reads or writes, the environment variables its `${env:…}`
 * references name (and nothing else of the host's environment), and labels to find it again.
 */
export async function stageContainerRequest(spec: JobSpec, task: TaskSpec, image: string): Promise<ContainerRequest> {
  const baseDir = resolve(argValue(task.args, '--base-dir') || process.cwd());
  const binds = new Map<string, 'ro' | 'rw'>([[baseDir, 'ro']]);
  const user = containerUser();
  const bufferUrl = argValue(task.args, '--buffer');
  if (!/^[a-z0-9+.-]+:\/\//i.test(bufferUrl) || bufferUrl.startsWith('file://')) {
    const runDir = join(fileBufferRoot(bufferUrl, baseDir), argValue(task.args, '--tenant') || spec.tenant, spec.job, task.run);
    await mkdir(runDir, { recursive: true });
    if (process.getuid?.() === 0 && user.uid !== 0) await handOver(runDir, user.uid, user.gid);
    binds.set(runDir, 'rw');
  }
  if (task.stage === 'extract' && FILE_SOURCES.has(spec.extract.from)) {
    const paths = ([] as unknown[]).concat(spec.extract.path).filter((p): p is string => typeof p === 'string');
    for (const p of paths) {
      const root = resolve(baseDir, globRoot(p));
      if (!inside(baseDir, root)) binds.set(root, 'ro');
    }
  }
  if (task.stage === 'load' && FILE_SINKS.has(spec.load.to) && typeof spec.load.path === 'string') {
    const target = resolve(baseDir, spec.load.path);
    const dir = dirname(target);
    await makeFolder(dir, user);
    binds.set(dir, 'rw');
    // The sink renames a temp file over the target and rewrites its ledger file next to it.
    for (const path of [dir, join(dir, `.${basename(target)}.datamill.json`)]) await assertAccess(path, user, 'write');
  }
  for (const path of binds.keys()) await assertAccess(path, user, 'read');
  const env: Record<string, string> = {};
  for (const m of JSON.stringify(spec).matchAll(/\$\{env:([^}]+)\}/g)) {
    const value = process.env[m[1]!];
    if (value !== undefined) env[m[1]!] = value;
  }
  for (const name of ['DATAMILL_LOG_LEVEL', 'DATAMILL_FAULT', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  Object.assign(env, task.env, { HOME: '/tmp', TMPDIR: '/tmp' });
  env.NODE_OPTIONS = [env.NODE_OPTIONS, stageNodeOptions(task.resources.memoryBytes)].filter(Boolean).join(' ');
  return {
    image, cmd: task.args, env,
    cpus: task.resources.cpus, memoryBytes: task.resources.memoryBytes,
    network: stageNetwork(spec, task.stage),
    binds: [...binds].map(([path, mode]) => `${path}:${path}:${mode}`),
    user: `${user.uid}:${user.gid}`,
    labels: { 'datamill.runner': runnerId(), 'datamill.tenant': spec.tenant, 'datamill.job': spec.job, 'datamill.run': task.run, 'datamill.stage': task.stage, 'datamill.attempt': String(task.attempt) },
    timeoutMs: task.timeoutMs,
    onLine: task.onLine,
  };
}
