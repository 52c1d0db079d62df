import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { datamill, workspace } from '../support/cli.js';
import { startSlackReceiver } from '../support/slack-receiver.js';

function notifyingJob(o: { on: string; attempts?: number }): string {
  return `job: orders
tenant: shop
buffer: file://buf
retries: { attempts: ${o.attempts ?? 1}, backoff: 10ms }
notify:
  slack: { webhook: "\${env:TEST_SLACK_WEBHOOK}", on: [${o.on}], channel: "#etl-alerts" }
extract: { from: csv, path: "\${param:file}" }
adapt:
  fields: { id: integer, amount: integer }
load: { to: file, path: out.csv }
`;
}

function project(on: string, attempts?: number) {
  const ws = workspace();
  ws.write('orders.csv', 'id,amount\n1,10\n2,20\n');
  const job = ws.write('job.yaml', notifyingJob({ on, ...(attempts ? { attempts } : {}) }));
  const run = async (file: string, webhook: string, env: Record<string, string> = {}) => {
    const r = await datamill(['run', job, '--param', `file=${file}`, '--json', '--public-url', 'https://datamill.example.com/'], { env: { DATAMILL_HOME: ws.home, TEST_SLACK_WEBHOOK: webhook, ...env }, cwd: ws.dir });
    return { code: r.code, run: JSON.parse(r.stdout) as { id: string; status: string }, log: () => readFileSync(join(ws.home, 'logs', `${(JSON.parse(r.stdout) as { id: string }).id}.ndjson`), 'utf8') };
  };
  return { ws, run };
}

test('failing runs post one message per incident (job, run, stage, attempt, error, log tail, link), then one recovery', async () => {
  const slack = await startSlackReceiver();
  try {
    const { run } = project('failure, fatal, recovery');
    const first = await run('missing.csv', slack.url);
    assert.equal(first.code, 1);
    assert.equal(slack.posts.length, 1);
    const post = slack.posts[0]!;
    assert.equal(post.path, '/services/T0001/B0002/hooksecret0123456789');
    assert.equal(post.contentType, 'application/json');
    assert.equal(post.channel, '#etl-alerts');
    assert.match(post.text, new RegExp(`orders failed \\(not retryable\\) \\(run ${first.run.id}\\): extract: .*missing\\.csv`));
    const blocks = JSON.stringify(post.blocks);
    assert.match(blocks, /\*Job\*\\norders \(tenant shop\)/);
    assert.match(blocks, new RegExp(`<https://datamill\\.example\\.com/runs/${first.run.id}\\|${first.run.id}>`));
    assert.match(blocks, /\*Stage\*\\nextract \(attempt 1\)/);
    assert.match(blocks, /\*Error\* `SourceError`/);
    assert.match(blocks, /\*Last log lines\*/);
    assert.match(blocks, /FATAL \[run\] run failed: extract/);

    assert.equal((await run('missing.csv', slack.url)).code, 1);
    assert.equal(slack.posts.length, 1, 'a second failed run is the same incident');

    const recovered = await run('orders.csv', slack.url);
    assert.equal(recovered.code, 0);
    assert.equal(slack.posts.length, 2);
    assert.match(slack.posts[1]!.text, new RegExp(`orders recovered \\(run ${recovered.run.id}\\)`));
    assert.match(JSON.stringify(slack.posts[1]!.blocks), new RegExp(`Failing since\\*\\\\n\\S+ \\(run ${first.run.id}\\)`));

    assert.equal((await run('orders.csv', slack.url)).code, 0);
    assert.equal(slack.posts.length, 2, 'a success with no incident open says nothing');
  } finally {
    await slack.close();
  }
});

test('a stage retried inside a run never posts; a run failing after its retries posts once, as a failure', async () => {
  const slack = await startSlackReceiver();
  try {
    const retried = project('failure, recovery', 2);
    const ok = await retried.run('orders.csv', slack.url, { DATAMILL_FAULT: 'extract:start:1' });
    assert.equal(ok.code, 0);
    assert.match(ok.log(), /extract attempt 1 failed; retrying/);
    assert.equal(slack.posts.length, 0);

    const once = project('failure, recovery', 1);
    const failed = await once.run('orders.csv', slack.url, { DATAMILL_FAULT: 'extract:start:1' });
    assert.equal(failed.code, 1);
    assert.equal(slack.posts.length, 1);
    assert.match(slack.posts[0]!.text, /^:x: orders failed \(run /);
  } finally {
    await slack.close();
  }
});

test('only `fatal` in `on` stays quiet for a retryable failure', async () => {
  const slack = await startSlackReceiver();
  try {
    const { run } = project('fatal');
    assert.equal((await run('orders.csv', slack.url, { DATAMILL_FAULT: 'extract:start:1' })).code, 1);
    assert.equal(slack.posts.length, 0);
  } finally {
    await slack.close();
  }
});

test('a Slack outage (500s, or nothing listening) never changes a run\'s outcome, and the log never shows the webhook URL', async () => {
  const slack = await startSlackReceiver();
  slack.status = 500;
  try {
    const { run } = project('failure, recovery, success');
    const failed = await run('missing.csv', slack.url);
    assert.equal(failed.code, 1);
    assert.equal(failed.run.status, 'failed');
    assert.equal(slack.posts.length, 3, 'one post and two short retries');
    const log = failed.log();
    assert.match(log, /Slack fatal message for run \S+ not sent: .*500/);
    assert.ok(!log.includes('hooksecret0123456789') && !log.includes('/services/T0001'), 'no webhook URL in the log');

    await slack.close();
    // The undelivered incident was not kept open, so nothing waits to "recover"; a success posts `success`.
    const ok = await run('orders.csv', slack.url);
    assert.equal(ok.code, 0);
    assert.equal(ok.run.status, 'succeeded');
    assert.match(ok.log(), /Slack success message for run \S+ not sent/);
    assert.ok(!ok.log().includes('hooksecret0123456789'));
  } finally {
    await slack.close().catch(() => undefined);
  }
});
