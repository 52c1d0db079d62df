import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (tests run from compiled output, so look for package.json upwards from cwd). */
export function repoRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('run tests from inside the repository');
    dir = up;
  }
  return dir;
}
