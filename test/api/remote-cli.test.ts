import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTenantTokens } from '../../src/api/server.js';
import { datamill, workspace } from '../support/cli.js';
import { call, startApiFixture } from '../support/api-fixture.js';

const SHOP = 'shop-token-0123456789abcdef';

test('runs, show and logs read through --server print exactly what they print locally', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }, { job: 'broken-orders', tenant: 'shop', fail: true }]);
  try {
    for (const job of ['orders', 'broken-orders']) {
      const { run } = (await call(api.url, `/api/jobs/${job}/trigger`, { body: {} })).body;
      await call(api.url, `/api/runs/${run.id}/logs?follow=1`);
    }
    await api.control.idle();
    const [failed] = await api.store.listRuns({ status: 'failed' });
    const env = { DATAMILL_HOME: api.home };
    const both = async (args: string[]) => {
      const local = await datamill(args, { env, cwd: api.dir });
      const remote = await datamill([...args, '--server', api.url], { env: { DATAMILL_HOME: '/nonexistent' }, cwd: api.dir });
      assert.equal(remote.stdout, local.stdout, args.join(' '));
      assert.equal(remote.code, local.code, args.join(' '));
      return remote;
    };
    const runs = await both(['runs']);
    assert.match(runs.stdout, /broken-orders +failed/);
    await both(['runs', '--json', '--status', 'succeeded']);
    const show = await both(['show', failed!.id.slice(0, -1)]);
    assert.match(show.stdout, /error +extract: /);
    await both(['show', failed!.id, '--json']);
    const logs = await both(['logs', failed!.id]);
    assert.match(logs.stdout, /FATAL|ERROR/);
    await both(['logs', failed!.id, '--stage', 'extract', '--json']);
    const missing = await datamill(['show', '20990101T000000Z-ffffff', '--server', api.url], { cwd: api.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no run matches '20990101T000000Z-ffffff'/);
  } finally {
    await api.close();
  }
});

test('`trigger JOB --param k=v --server URL` starts a run with a tenant token, and `logs --follow` streams it to its end', async () => {
  const ws = workspace();
  const tokens = await loadTenantTokens(ws.write('tokens.yaml', `tokens:\n  - { token: ${SHOP}, tenant: shop }\n`));
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }, { job: 'ledger', tenant: 'bank' }], { tokens });
  try {
    const env = { DATAMILL_SERVER: api.url, DATAMILL_TOKEN: SHOP };
    const started = await datamill(['trigger', 'orders', '--param', 'day=2026-01-02', '--json'], { env, cwd: api.dir });
    assert.equal(started.code, 0, started.stderr);
    const run = JSON.parse(started.stdout) as { id: string; params: Record<string, string>; trigger: string };
    assert.deepEqual(run.params, { day: '2026-01-02' });
    const followed = await datamill(['logs', run.id, '--follow'], { env, cwd: api.dir });
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout.trim().split('\n').at(-1)!, /INFO  \[run\] run succeeded/);
    assert.equal((await api.store.getRun(run.id))!.status, 'succeeded');

    const text = await datamill(['trigger', 'orders', '--server', api.url, '--token', SHOP], { cwd: api.dir });
    assert.match(text.stdout, /^run \S+ of orders started\nfollow: datamill logs \S+ --follow --server http:/);

    const other = await datamill(['trigger', 'ledger'], { env, cwd: api.dir });
    assert.equal(other.code, 2);
    assert.match(other.stderr, /the server answered 404: NotFound: job 'ledger' not found/);
    const anonymous = await datamill(['runs', '--server', api.url], { env: { DATAMILL_TOKEN: '' }, cwd: api.dir });
    assert.equal(anonymous.code, 2);
    assert.match(anonymous.stderr, /401: Unauthorized: missing bearer token.*\(pass --token or set DATAMILL_TOKEN\)/);
    assert.equal((await api.store.listRuns({ job: 'ledger' })).length, 0);
  } finally {
    await api.close();
  }
});

test('a server that is not there, or no server at all for trigger, is a clear error', async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  const down = await datamill(['runs', '--server', `http://127.0.0.1:${port}`]);
  assert.equal(down.code, 2);
  assert.match(down.stderr, new RegExp(`cannot reach the Datamill server at http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  const none = await datamill(['trigger', 'orders'], { env: { DATAMILL_SERVER: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /trigger needs a server/);
});

test('`logs --follow` on the local store also waits for the run to end', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }]);
  try {
    const { run } = (await call(api.url, '/api/jobs/orders/trigger', { body: {} })).body;
    const followed = await datamill(['logs', run.id, '--follow'], { env: { DATAMILL_HOME: api.home }, cwd: api.dir });
    assert.match(followed.stdout.trim().split('\n').at(-1)!, /run succeeded/);
  } finally {
    await api.close();
  }
});
