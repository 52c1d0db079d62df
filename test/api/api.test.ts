import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTenantTokens } from '../../src/api/server.js';
import { workspace } from '../support/cli.js';
import { call, startApiFixture } from '../support/api-fixture.js';

const SHOP = 'shop-token-0123456789abcdef';
const BANK = 'bank-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';

async function tokensFile(extra = ''): Promise<ReturnType<typeof loadTenantTokens>> {
  const ws = workspace();
  const file = ws.write('tokens.yaml', `tokens:\n  - { name: shop, token: ${SHOP}, tenant: shop }\n  - { name: bank, token: "\${env:TEST_BANK_TOKEN}", tenant: bank }\n  - { name: ops, token: ${ADMIN}, admin: true }\n${extra}`);
  process.env.TEST_BANK_TOKEN = BANK;
  return loadTenantTokens(file);
}

async function waitForEnd(url: string, id: string, token?: string): Promise<Record<string, any>> {
  // Following the logs returns once the run has ended; then its record is final.
  await call(url, `/api/runs/${id}/logs?follow=1`, token ? { token } : {});
  return (await call(url, `/api/runs/${id}`, token ? { token } : {})).body;
}

test('a triggered run is listed, shown with its attempts and figures, and its logs read as NDJSON', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }, { job: 'broken-orders', tenant: 'shop', fail: true }]);
  try {
    const jobs = await call(api.url, '/api/jobs');
    assert.equal(jobs.status, 200);
    assert.deepEqual(jobs.body.jobs.map((j: { job: string }) => j.job).sort(), ['broken-orders', 'orders']);
    const trigger = await call(api.url, '/api/jobs/orders/trigger', { body: { params: { day: '2026-01-01' } } });
    assert.equal(trigger.status, 201);
    assert.equal(trigger.body.run.job, 'orders');
    assert.deepEqual(trigger.body.run.params, { day: '2026-01-01' });
    const shown = await waitForEnd(api.url, trigger.body.run.id);
    assert.equal(shown.run.status, 'succeeded');
    assert.equal(shown.run.figures.rows_loaded, 2);
    assert.equal(shown.run.figures.rows_rejected, 1);
    assert.deepEqual(shown.attempts.map((a: { stage: string; status: string }) => `${a.stage}:${a.status}`), ['extract:succeeded', 'adapt:succeeded', 'load:succeeded']);
    assert.equal(shown.attempts[0].rowsOut, 3);

    const failed = (await call(api.url, '/api/jobs/broken-orders/trigger', { body: {} })).body.run;
    assert.equal((await waitForEnd(api.url, failed.id)).run.status, 'failed');
    const runs = await call(api.url, '/api/runs?status=failed');
    assert.deepEqual(runs.body.runs.map((r: { id: string }) => r.id), [failed.id]);
    assert.equal((await call(api.url, '/api/runs?job=orders&limit=5')).body.runs.length, 1);
    // A unique prefix of a run id works like in the CLI.
    assert.equal((await call(api.url, `/api/runs/${failed.id.slice(0, -2)}`)).body.run.id, failed.id);

    const logs = (await call<string>(api.url, `/api/runs/${trigger.body.run.id}/logs`)).body.trim().split('\n').map((l) => JSON.parse(l) as { level: string; stage?: string; message: string });
    assert.ok(logs.some((e) => e.stage === 'load'));
    assert.match(logs.at(-1)!.message, /^run succeeded/);
    const adaptOnly = (await call<string>(api.url, `/api/runs/${trigger.body.run.id}/logs?stage=adapt`)).body.trim().split('\n').map((l) => JSON.parse(l) as { stage: string });
    assert.ok(adaptOnly.length > 0 && adaptOnly.every((e) => e.stage === 'adapt'));
    const severe = (await call<string>(api.url, `/api/runs/${failed.id}/logs?level=error`)).body.trim().split('\n').map((l) => JSON.parse(l) as { level: string; message: string });
    assert.ok(severe.length > 0 && severe.every((e) => e.level === 'error' || e.level === 'fatal'));
    assert.ok(severe.some((e) => /missing\.csv/.test(e.message)));
  } finally {
    await api.close();
  }
});

test('following a run\'s logs streams lines while it runs and ends when the run ends', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }]);
  try {
    const { run } = (await call(api.url, '/api/jobs/orders/trigger', { body: {} })).body;
    const res = await fetch(`${api.url}/api/runs/${run.id}/logs?follow=1`);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { message: string });
    assert.match(lines[0]!.message, /^run .* started/);
    assert.match(lines.at(-1)!.message, /^run succeeded/);
    assert.equal((await api.store.getRun(run.id))!.status, 'succeeded');
  } finally {
    await api.close();
  }
});

test('a tenant token sees and triggers only its own jobs and runs; others\' answer 404 like missing ones', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }, { job: 'ledger', tenant: 'bank' }, { job: 'bad', tenant: 'shop', extra: 'nonsense: 1' }], { tokens: await tokensFile() });
  try {
    assert.equal((await call(api.url, '/api/jobs')).status, 401);
    const wrong = await call(api.url, '/api/jobs', { token: 'not-a-token-at-all-xxxx' });
    assert.deepEqual([wrong.status, wrong.body.error.name], [401, 'Unauthorized']);
    assert.equal((await call(api.url, '/api/health')).status, 200, 'health answers probes without a token');

    assert.deepEqual((await call(api.url, '/api/jobs', { token: SHOP })).body.jobs.map((j: { job: string }) => j.job), ['orders']);
    assert.deepEqual((await call(api.url, '/api/jobs', { token: SHOP })).body.brokenFiles, []);
    const admin = (await call(api.url, '/api/jobs', { token: ADMIN })).body;
    assert.deepEqual(admin.jobs.map((j: { job: string }) => j.job).sort(), ['ledger', 'orders']);
    assert.equal(admin.brokenFiles[0].file, 'bad.yaml');
    assert.match(admin.brokenFiles[0].problems[0], /nonsense/);

    const bankRun = (await call(api.url, '/api/jobs/ledger/trigger', { token: BANK, body: {} })).body.run;
    await waitForEnd(api.url, bankRun.id, BANK);
    for (const [method, path] of [['GET', '/api/jobs/ledger'], ['POST', '/api/jobs/ledger/trigger'], ['POST', '/api/jobs/ledger/pause'], ['GET', `/api/runs/${bankRun.id}`], ['GET', `/api/runs/${bankRun.id}/logs`]] as const) {
      const r = await call(api.url, path, { token: SHOP, method, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(r.body.error.name, 'NotFound');
      const missing = await call(api.url, path.replace('ledger', 'no-such-job').replace(bankRun.id, '20990101T000000Z-000000'), { token: SHOP, method, ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(missing.body.error.message.replace(/'[^']*'/, "'X'"), r.body.error.message.replace(/'[^']*'/, "'X'"), 'the same answer as for a missing one');
    }
    assert.deepEqual((await call(api.url, '/api/runs', { token: SHOP })).body.runs, []);
    assert.equal((await call(api.url, '/api/runs', { token: ADMIN })).body.runs.length, 1);
    assert.equal((await api.store.listRuns({ job: 'ledger' })).length, 1, 'the refused trigger started nothing');

    const paused = await call(api.url, '/api/jobs/orders/pause', { token: SHOP, body: {} });
    assert.equal(paused.body.job.paused, true);
    assert.equal((await call(api.url, '/api/jobs/orders/resume', { token: SHOP, body: {} })).body.job.paused, false);
  } finally {
    await api.close();
  }
});

test('bad requests get a JSON error with a status: bad body, bad filter, unknown route, wrong method', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }]);
  try {
    const cases: Array<[string, Parameters<typeof call>[2], number, RegExp]> = [
      ['/api/jobs/orders/trigger', { raw: '{nope' }, 400, /not valid JSON/],
      ['/api/jobs/orders/trigger', { body: { params: { n: 1 } } }, 400, /params\.n: expected a string/],
      ['/api/jobs/orders/trigger', { body: { parms: {} } }, 400, /unknown field parms/],
      ['/api/runs?status=done', {}, 400, /expected one of queued, running/],
      ['/api/runs?limit=0', {}, 400, /limit=0/],
      ['/api/nothing', {}, 404, /route \/api\/nothing not found/],
      ['/api/jobs', { method: 'DELETE' }, 405, /DELETE is not allowed/],
      ['/api/runs/x/logs?level=loud', {}, 404, /run 'x' not found/],
    ];
    for (const [path, o, status, message] of cases) {
      const r = await call(api.url, path, o);
      assert.equal(r.status, status, path);
      assert.match(r.body.error.message, message, path);
      assert.equal(typeof r.body.error.name, 'string');
    }
    assert.equal((await api.store.listRuns()).length, 0);
  } finally {
    await api.close();
  }
});

test('without a tokens file the API binds 127.0.0.1 only and says so', async () => {
  const api = await startApiFixture([]);
  try {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(api.notices.join('\n'), /127\.0\.0\.1 only/);
    assert.deepEqual((await call(api.url, '/api/health')).body, { status: 'ok', auth: 'none (loopback only)' });
  } finally {
    await api.close();
  }
});

test('a secret the server resolved never appears in a response, even sent back as a param', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }], { tokens: await tokensFile() });
  try {
    const r = await call(api.url, '/api/jobs/orders/trigger', { token: ADMIN, body: { params: { note: `x${BANK}x` } } });
    assert.equal(r.body.run.params.note, 'x***x');
    const shown = await waitForEnd(api.url, r.body.run.id, ADMIN);
    assert.ok(!JSON.stringify(shown).includes(BANK));
  } finally {
    await api.close();
  }
});

test('a tokens file with a short token, an unknown key or a duplicate is refused naming the entry', async () => {
  const ws = workspace();
  const cases: Array<[string, RegExp]> = [
    ['tokens:\n  - { token: short, tenant: shop }\n', /tokens\.0\.token/],
    ['tokens:\n  - { token: 0123456789abcdef0, tenant: shop, role: x }\n', /tokens\.0/],
    ['tokens:\n  - { token: 0123456789abcdef0, tenant: shop }\n  - { token: 0123456789abcdef0, admin: true }\n', /listed twice/],
    ['nope: 1\n', /expected: tokens/],
  ];
  for (const [text, message] of cases) {
    const file = ws.write('t.yaml', text);
    await assert.rejects(loadTenantTokens(file), (err: Error) => {
      assert.match(err.message, message);
      assert.ok(!err.message.includes('0123456789abcdef0'), 'a token is never printed');
      return true;
    });
  }
  await assert.rejects(loadTenantTokens(join(ws.dir, 'none.yaml')), /cannot read the tokens file .*none\.yaml: ENOENT/);
  writeFileSync(join(ws.dir, 'ok.json'), JSON.stringify({ tokens: [{ token: SHOP, tenant: 'shop' }] }));
  const tokens = await loadTenantTokens(join(ws.dir, 'ok.json'));
  assert.deepEqual(tokens.scopeOf(SHOP), { admin: false, tenant: 'shop', name: 'tokens[0]' });
  assert.equal(tokens.scopeOf(SHOP + 'x'), null);
});

test('the pool shows a tenant only its own tasks; exec runs for the token\'s tenant and refuses bad requests with the field', async () => {
  const api = await startApiFixture([{ job: 'orders', tenant: 'shop' }], { tokens: await tokensFile() });
  const held = await Promise.all([
    api.control.resourcePool.acquire({ cpus: 1, memoryBytes: 1 << 20, tenant: 'shop', job: 'orders', run: 'run-shop', stage: 'extract', priority: 0 }),
    api.control.resourcePool.acquire({ cpus: 0.5, memoryBytes: 1 << 20, tenant: 'bank', job: 'ledger', run: 'run-bank', stage: 'load', priority: 0 }),
  ]);
  try {
    const admin = (await call(api.url, '/api/pool', { token: ADMIN })).body.pool;
    assert.deepEqual(admin.running.map((t: { run: string }) => t.run).sort(), ['run-bank', 'run-shop']);
    assert.equal(admin.inUse.cpus, 1.5);
    const shop = (await call(api.url, '/api/pool', { token: SHOP })).body.pool;
    assert.deepEqual(shop.running.map((t: { run: string; tenant: string }) => `${t.tenant}:${t.run}`), ['shop:run-shop'], 'another tenant\'s tasks are not shown');
    assert.equal(shop.capacity.cpus, admin.capacity.cpus);

    const foreign = await call(api.url, '/api/exec', { token: SHOP, body: { image: 'busybox', tenant: 'bank' } });
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error.message, /tenant shop.*cannot run containers for tenant bank/);
    const bad = await call(api.url, '/api/exec', { token: ADMIN, body: { image: 'busybox', memory: 'lots' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /memory/);
    assert.equal((await call(api.url, '/api/runs', { token: ADMIN })).body.runs.length, 0, 'a refused exec records no run');
  } finally {
    for (const lease of held) lease.release();
    await api.close();
  }
});
