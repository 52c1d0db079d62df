import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A throwaway S3-compatible server (s3rver) in a temp folder; credentials are s3rver's fixed S3RVER/S3RVER. */
export interface S3Server {
  endpoint: string;
  stop(): void;
}

/** The environment a client (and every datamill process a test starts) needs to reach it. */
export function s3Env(endpoint: string): Record<string, string> {
  return { DATAMILL_TEST_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
}

export async function startS3(): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-s3-'));
  const main = join(dirname(fileURLToPath(import.meta.url)), 's3rver-main.js');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', main, dir, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before it was ready`)));
  });
  child.stdout.resume();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
