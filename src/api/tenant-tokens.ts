import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { SpecError } from '../core/errors.js';
import { resolveSecrets } from '../spec/secrets.js';

/** What a bearer token may see: one tenant's jobs and runs, or everything (admin). */
export type TokenScope = { admin: true; tenant: null; name: string } | { admin: false; tenant: string; name: string };

export interface TenantTokens {
  /** The scope of a presented token, or null for an unknown one. */
  scopeOf(token: string): TokenScope | null;
  readonly count: number;
}

const entrySchema = z.union([
  z.strictObject({ name: z.string().optional(), token: z.string().min(16), tenant: z.string().regex(/^[a-z0-9-]+$/) }),
  z.strictObject({ name: z.string().optional(), token: z.string().min(16), admin: z.literal(true) }),
]);
const fileSchema = z.strictObject({ tokens: z.array(entrySchema).min(1) });

const digest = (token: string) => createHash('sha256').update(token).digest();

/**
 * Reads the tokens file (YAML or JSON; docs/api.md). Tokens may be `${env:…}` / `${file:…}` references,
 * resolved here and remembered as secrets so they are never printed. Only digests are kept, compared in
 * constant time.
 */
export async function loadTenantTokens(file: string): Promise<TenantTokens> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SpecError(`cannot read the tokens file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { details: { where: file } });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new SpecError(`${file}: not valid YAML/JSON: ${(err as Error).message}`, { details: { where: file } });
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    // zod's own message, not describeIssue's: that one quotes the bad value, and here values are tokens.
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(top)';
    throw new SpecError(`${file}: ${path}: ${issue.message} (expected: tokens: [{ token: <at least 16 characters>, tenant: NAME } or { token: …, admin: true }])`, { details: { where: `${file}: ${path}` } });
  }
  const entries = parsed.data.tokens.map((e, i) => {
    const token = resolveSecrets(e.token, dirname(file));
    if (token.length < 16) throw new SpecError(`${file}: tokens.${i}.token: a token must have at least 16 characters`, { details: { where: `${file}: tokens.${i}.token` } });
    const name = e.name ?? `tokens[${i}]`;
    const scope: TokenScope = 'admin' in e ? { admin: true, tenant: null, name } : { admin: false, tenant: e.tenant, name };
    return { digest: digest(token), scope };
  });
  const seen = new Set<string>();
  for (const e of entries) {
    const hex = e.digest.toString('hex');
    if (seen.has(hex)) throw new SpecError(`${file}: the same token is listed twice (${e.scope.name}); each token must map to one scope`, { details: { where: file } });
    seen.add(hex);
  }
  return {
    count: entries.length,
    scopeOf(token) {
      const d = digest(token);
      let found: TokenScope | null = null;
      // Compare against every entry so the time taken does not tell which one matched.
      for (const e of entries) if (timingSafeEqual(e.digest, d)) found = e.scope;
      return found;
    },
  };
}
