import { InvalidArgumentError, type Command } from 'commander';
import { collectGarbage } from '../buffer/retention.js';
import { formatDuration, parseDuration } from '../spec/units.js';
import { homeDir, openStore } from './home.js';

function duration(v: string): number {
  const ms = parseDuration(v);
  if (ms === null) throw new InvalidArgumentError('expected a duration like "7d", "36h" or "30m"');
  return ms;
}

/** `datamill gc`: removes buffered runs older than their retention (DESIGN §3). */
export function addGcCommand(program: Command): void {
  program
    .command('gc')
    .description("remove runs older than their job's retention (default 7d) from the buffers runs were written to")
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--older-than <duration>', "remove runs last written longer ago than this, whatever each job's retention", duration)
    .option('--buffer <url>', 'also sweep this buffer (file://DIR or s3://BUCKET/PREFIX; repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print JSON')
    .action(async (o: { dryRun?: boolean; olderThan?: number; buffer: string[]; json?: boolean }) => {
      const store = await openStore(homeDir(program.opts().home));
      try {
        const entries = await collectGarbage({ store, buffers: o.buffer, dryRun: o.dryRun === true, baseDir: process.cwd(), ...(o.olderThan === undefined ? {} : { olderThanMs: o.olderThan }) });
        if (o.json) {
          process.stdout.write(JSON.stringify(entries, null, 2) + '\n');
          return;
        }
        const now = Date.now();
        for (const e of entries) {
          if (e.action === 'kept: within retention') continue;
          process.stdout.write(`${e.action.padEnd(12)} ${e.buffer}/${e.tenant}/${e.job}/${e.run}  (last written ${formatDuration(now - Date.parse(e.lastModified))} ago, retention ${formatDuration(e.retentionMs)})\n`);
        }
        const gone = entries.filter((e) => e.action === 'removed' || e.action === 'would remove').length;
        process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${gone} of ${entries.length} buffered run(s)\n`);
      } finally {
        await store.close();
      }
    });
}
