import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SpecError } from '../core/errors.js';

/**
 * `${env:NAME}` and `${file:PATH}` references stay as text in the job everywhere (state, buffer, API,
 * logs) and are resolved only by the connector that needs the value, at the moment it connects. Every
 * resolved value is remembered so logs and errors can be scrubbed of it.
 */
const REF = /\$\{(env|file):([^}]+)\}/g;
const revealed = new Set<string>();

export function hasSecretRef(value: string): boolean {
  REF.lastIndex = 0;
  return REF.test(value);
}

export function resolveSecrets(value: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(REF, (_, kind: string, name: string) => {
    let secret: string;
    if (kind === 'env') {
      const v = env[name];
      if (v === undefined) throw new SpecError(`environment variable ${name} is not set (referenced as \${env:${name}})`, { details: { value: `\${env:${name}}`, expected: 'a set environment variable' } });
      secret = v;
    } else {
      const path = resolve(baseDir, name);
      try {
        secret = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new SpecError(`cannot read secret file ${name}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { details: { value: `\${file:${name}}`, expected: 'a readable file' } });
      }
    }
    if (secret.length >= 4) revealed.add(secret);
    rememberSecretParts(secret);
    return secret;
  });
}

/** Passwords inside a resolved URL are secrets on their own (drivers print hosts, never whole URLs). */
function rememberSecretParts(secret: string): void {
  try {
    const u = new URL(secret);
    if (u.password) revealed.add(decodeURIComponent(u.password)).add(u.password);
  } catch {
    /* not a URL */
  }
}

/** Replaces every secret value this process has resolved with `***`. */
export function redact(text: string): string {
  if (revealed.size === 0) return text;
  let out = text;
  for (const s of revealed) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** Shows a connection URL without its password (for "loading into …" lines). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return redact(url);
  }
}

/** Removes a URL's password (and the URL itself) from driver messages, whether or not it came from a reference. */
export function scrubUrl(text: string, url: string): string {
  let out = redact(text);
  if (url.length > 0) out = out.split(url).join(describeUrl(url));
  try {
    const password = new URL(url).password;
    if (password.length > 0) {
      out = out.split(password).join('***');
      const decoded = decodeURIComponent(password);
      if (decoded.length > 0) out = out.split(decoded).join('***');
    }
  } catch {
    /* not a URL: nothing more to hide than redact() knew */
  }
  return out;
}
