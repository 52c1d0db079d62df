import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

/**
 * Images for the container tests, with no registry (shared/ENVIRONMENT.md): the base images the
 * Dockerfile builds FROM are imported from this host's own files and tagged like the upstream ones; the
 * project's real Dockerfile is then built on them. Each image carries a hash of its inputs as a label and
 * is rebuilt only when they change, so repeated test runs reuse it.
 */

/** The Dockerfile's default base images (its ARGs); the imported stand-ins take these tags. */
export const BUILD_BASE = 'node:22-bookworm';
export const RUNTIME_BASE = 'node:22-bookworm-slim';
export const TEST_IMAGE = 'datamill:test';

const sh = (script: string) => execFileSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 28 });

function docker(host: string, args: string[], input?: Buffer | string): string {
  return execFileSync('docker', ['-H', host, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, ...(input === undefined ? {} : { input }), env: { ...process.env, DOCKER_BUILDKIT: '0' } });
}

function labelOf(host: string, image: string, label: string): string | null {
  const r = spawnSync('docker', ['-H', host, 'image', 'inspect', '-f', `{{ index .Config.Labels "${label}" }}`, image], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Every file of the installed Debian packages `roots` depends on (recursively), by their real paths. */
function packageFiles(roots: string[]): string[] {
  const list = sh(`apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances --installed ${roots.join(' ')} 2>/dev/null | grep -v '^[ <]' | sort -u | xargs dpkg-query -L 2>/dev/null | sort -u`);
  return list.split('\n').filter((p) => p.startsWith('/'));
}

/**
 * Canonical paths (merged /usr: /bin/sh → /usr/bin/sh), existing ones only, with every parent folder. A
 * symlink comes with the file it points to: `ldd` names libstdc++.so.6, a link to libstdc++.so.6.0.30.
 */
function canonical(paths: string[]): string[] {
  const out = new Set<string>();
  const add = (path: string) => {
    for (let d = dirname(path); d !== '/'; d = dirname(d)) out.add(d);
    out.add(path);
  };
  for (const p of paths) {
    let real: string;
    try {
      real = join(realpathSync(dirname(p)), p.split('/').pop()!);
      statSync(real);
    } catch {
      continue;
    }
    add(real);
    if (lstatSync(real).isSymbolicLink()) add(realpathSync(real));
  }
  return [...out].sort();
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() && !e.isSymbolicLink() ? [p, ...walk(p)] : [p];
  });
}

/** Imports a root filesystem made of `paths` from this host, plus a minimal /etc/passwd with the `node` user. */
function importRootfs(host: string, tag: string, paths: string[], changes: string[]): void {
  const files = canonical(paths);
  const hash = createHash('sha256').update(files.join('\n')).update(changes.join('\n')).update(sh('node --version; stat -c %Y /var/lib/dpkg/status')).digest('hex').slice(0, 16);
  if (labelOf(host, tag, 'datamill.inputs') === hash) return;
  const staging = mkdtempSync(join(tmpdir(), 'datamill-rootfs-'));
  try {
    for (const d of ['etc', 'tmp', 'root', 'home/node']) mkdirSync(join(staging, d), { recursive: true });
    chmodSync(join(staging, 'tmp'), 0o1777);
    for (const l of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${l}`, join(staging, l));
    writeFileSync(join(staging, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n');
    writeFileSync(join(staging, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
    const list = join(staging, '..', `${relative(tmpdir(), staging)}.list`);
    // What the staging folder holds must not come twice (the engine refuses duplicate paths).
    const staged = new Set(walk(staging).map((p) => relative(staging, p)));
    writeFileSync(list, files.map((p) => p.slice(1)).filter((p) => !staged.has(p)).join('\n') + '\n');
    const args = ['import', ...changes.flatMap((c) => ['-c', c]), '-c', `LABEL datamill.inputs=${hash}`, '-', tag];
    // Streamed: the build base is ~500 MB.
    execFileSync('bash', ['-c', 'set -o pipefail; tar -c -C "$1" . -C / --no-recursion -T "$2" 2>/dev/null | docker -H "$3" "${@:4}"', 'import-rootfs', staging, list, host, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(list, { force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const PATH_ENV = 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The two base images from the host: the runtime one (node, a shell and coreutils) and the build one
 * (also npm, node's headers, python3, make and g++ for better-sqlite3, and the host's CA bundle and
 * global npmrc so `npm ci` reaches the registry the way the host does).
 */
export function importBaseImages(host: string): void {
  const runtime = [...packageFiles(['dash', 'coreutils']), '/usr/bin/node', ...sh("ldd /usr/bin/node | grep -o '/[^ ]*'").split('\n').filter(Boolean)];
  importRootfs(host, RUNTIME_BASE, runtime, [PATH_ENV, 'CMD ["node"]']);
  // cc and c++ are alternatives links, which no package lists.
  const extra = ['/etc/ssl/certs/ca-certificates.crt', '/usr/etc/npmrc', '/usr/bin/npm', '/usr/bin/npx', '/usr/bin/cc', '/usr/bin/c++', '/etc/alternatives/cc', '/etc/alternatives/c++', ...walk('/usr/lib/node_modules/npm')];
  importRootfs(host, BUILD_BASE, [...runtime, ...packageFiles(['nodejs', 'gcc', 'g++', 'make', 'python3', 'bash', 'grep', 'sed', 'findutils', 'gzip', 'tar']), ...extra], [PATH_ENV, 'ENV npm_config_nodedir=/usr', 'CMD ["node"]']);
}

/** The files the image is built from (the Dockerfile's COPYs), hashed to tell whether a rebuild is needed. */
function contextHash(root: string, host: string): string {
  const h = createHash('sha256');
  const names = ['Dockerfile', 'package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.image.json'];
  const files = [...names.map((n) => join(root, n)), ...['src', 'adapters', 'transforms', 'bin', 'jobs'].flatMap((d) => walk(join(root, d)))].filter((f) => statSync(f).isFile()).sort();
  for (const f of files) h.update(relative(root, f)).update('\0').update(readFileSync(f));
  for (const base of [BUILD_BASE, RUNTIME_BASE]) h.update(labelOf(host, base, 'datamill.inputs') ?? '');
  return h.digest('hex').slice(0, 16);
}

/** Builds the project's Dockerfile as `datamill:test` unless an image of the same inputs is there already. */
export function buildDatamillImage(host: string, root: string): { image: string; rebuilt: boolean } {
  importBaseImages(host);
  const hash = contextHash(root, host);
  if (labelOf(host, TEST_IMAGE, 'datamill.inputs') === hash) return { image: TEST_IMAGE, rebuilt: false };
  execFileSync('docker', ['-H', host, 'build', '--network', 'host', '--label', `datamill.inputs=${hash}`, '-t', TEST_IMAGE, root], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  return { image: TEST_IMAGE, rebuilt: true };
}
