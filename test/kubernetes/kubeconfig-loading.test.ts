import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspace, CLI } from '../support/cli.js';
import { startKubeStandin } from '../support/kube-standin/standin-server.js';

test('the opt-in cluster test passes against the stand-in when KUBECONFIG points at it (the executor loads kubeconfig files like kubectl)', async () => {
  const k8s = await startKubeStandin({ images: { 'datamill:latest': { entrypoint: ['node', CLI] } }, graceScale: 0.01 });
  try {
    const ws = workspace();
    const kubeconfig = join(ws.dir, 'kubeconfig.json');
    writeFileSync(kubeconfig, k8s.kubeConfig('default').exportConfig());
    const e2e = fileURLToPath(new URL('./cluster-e2e.test.js', import.meta.url));
    // Without NODE_TEST_CONTEXT the child is a test run of its own, not a subprocess of this one.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', e2e], { env: { ...env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'close');
    assert.equal(code, 0, out);
    assert.match(out, /# pass 2/);
    assert.doesNotMatch(out, /SKIP/);
    assert.ok(k8s.requests.some((r) => r.method === 'POST' && r.path === '/apis/batch/v1/namespaces/default/jobs'), 'the context namespace is used');
  } finally {
    await k8s.close();
  }
});
