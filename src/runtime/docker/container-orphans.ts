import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { alive } from '../orphans.js';

/**
 * Containers outlive a `datamill` killed with -9. Each carries the label datamill.runner=host:pid of the
 * process that started it; those whose runner on this host is gone are killed and removed. Containers of
 * runners on other hosts are left alone: only their host can tell.
 */
export async function reapOrphanContainers(docker: Docker): Promise<string[]> {
  const host = hostname();
  const reaped: string[] = [];
  const list = await docker.listContainers({ all: true, filters: { label: ['datamill.runner'] } });
  for (const c of list) {
    const [runHost, pid] = (c.Labels['datamill.runner'] ?? '').split(':');
    if (runHost !== host || !pid || alive(Number(pid))) continue;
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    reaped.push(c.Id.slice(0, 12));
  }
  return reaped;
}
