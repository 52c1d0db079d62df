import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A private Docker engine (recipe and network warning: shared/ENVIRONMENT.md). */
export interface DockerEngine {
  /** unix://… for DOCKER_HOST. */
  host: string;
  stop(): Promise<void>;
}

export function dockerdPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v dockerd || ls /usr/sbin/dockerd /usr/bin/dockerd 2>/dev/null | head -1'], { encoding: 'utf8' });
  return found.stdout.trim().split('\n')[0] || null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts dockerd with its images in `dataRoot` (kept between test runs, so built images are reused) and
 * its socket and runtime state in a short temp folder. The three network flags keep it off the host's
 * firewall and private address ranges: containers get only `none` or `host` networking.
 */
export async function startDockerd(dataRoot: string): Promise<DockerEngine> {
  const dockerd = dockerdPath();
  if (!dockerd) throw new Error('dockerd not found: apt-get install -y docker.io');
  mkdirSync(dataRoot, { recursive: true });
  const pidfile = join(dataRoot, 'dockerd.pid');
  // A run that was killed may have left its engine on this data root: stop it first.
  if (existsSync(pidfile)) {
    const old = Number(readFileSync(pidfile, 'utf8'));
    if (old > 0 && alive(old)) {
      process.kill(old, 'SIGTERM');
      for (let i = 0; i < 100 && alive(old); i++) await sleep(100);
    }
    rmSync(pidfile, { force: true });
  }
  const run = mkdtempSync('/tmp/dmd-');
  const socket = join(run, 'docker.sock');
  const execRoot = join(run, 'exec');
  const child = spawn(dockerd, [
    '--data-root', join(dataRoot, 'data'), '--exec-root', execRoot, '--pidfile', pidfile, '-H', `unix://${socket}`,
    '--iptables=false', '--ip-forward=false', '--bridge=none',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const host = `unix://${socket}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`dockerd exited with code ${child.exitCode}:\n${log}`);
    if (existsSync(socket) && spawnSync('docker', ['-H', host, 'version'], { stdio: 'ignore' }).status === 0) break;
    if (i > 300) throw new Error(`dockerd did not answer within 30 s:\n${log}`);
    await sleep(100);
  }
  let stopped = false;
  return {
    host,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // Containers the tests left behind would hold the engine's shutdown.
        const ids = execFileSync('docker', ['-H', host, 'ps', '-aq'], { encoding: 'utf8' }).split('\n').filter(Boolean);
        if (ids.length) execFileSync('docker', ['-H', host, 'rm', '-f', ...ids], { stdio: 'ignore' });
      } catch {
        /* the engine is already gone */
      }
      child.kill('SIGTERM');
      const ended = () => child.exitCode !== null || child.signalCode !== null;
      for (let i = 0; i < 200 && !ended(); i++) await sleep(100);
      if (!ended()) child.kill('SIGKILL');
      spawnSync('umount', [join(execRoot, 'netns', 'default')], { stdio: 'ignore' });
      rmSync(run, { recursive: true, force: true });
    },
  };
}
