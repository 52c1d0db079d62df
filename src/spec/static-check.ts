import { DatamillError, ExpressionError } from '../core/errors.js';
import type { Schema } from '../core/schema.js';
import { TRANSFORMS } from '../../transforms/index.js';
import type { CompileContext } from '../../transforms/op.js';
import type { JobSpec } from './job-schema.js';
import { hasSecretRef } from './secrets.js';
import { adaptedSchema, transformSteps } from './steps.js';

const quiet = { fatal() {}, error() {}, warn() {}, info() {}, debug() {} };

/**
 * Compiles the transform steps against the adapted schema without reading any data, so an unknown
 * column or a broken expression is reported by `validate` (with its line) instead of mid-run. Stops at
 * the first step whose output depends on the data (a two-pass op such as flatten without `fields`).
 */
export function checkPipeline(spec: JobSpec): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  let schema: Schema | null = adaptedSchema(spec);
  for (const step of transformSteps(spec)) {
    const def = TRANSFORMS[step.name];
    if (!def || !schema) break;
    const ctx: CompileContext = { where: step.where, tmpDir: '', log: quiet };
    try {
      const op = def.compile(def.config.parse(step.config), schema, ctx);
      schema = op.kind === 'stream' ? op.output : null;
    } catch (err) {
      let message = err instanceof DatamillError ? err.message : String(err);
      // Errors name their step (or a key inside it, like one derived column): point the problem's YAML
      // path there, and don't say it twice.
      const where = err instanceof DatamillError && typeof err.details.where === 'string' ? err.details.where : step.where;
      let path = step.path;
      if (where.startsWith(`${step.where}.`)) path = [...step.path, where.slice(step.where.length + 1)];
      for (const prefix of [where, step.where]) if (message.startsWith(`${prefix}: `)) message = message.slice(prefix.length + 2);
      if (err instanceof ExpressionError && !/column \d+/.test(message)) message += ` (column ${err.column} of the expression)`;
      problems.push({ path, message });
      schema = null;
    }
  }
  problems.push(...misplacedSecrets(spec));
  const load = spec.load as { key?: string[] };
  if (schema && load.key) {
    const names = new Set(schema.map((f) => f.name));
    load.key.forEach((k, i) => {
      if (!names.has(k)) problems.push({ path: ['load', 'key', i], message: `key column '${k}' is not in the rows being loaded (${[...names].join(', ')})` });
    });
  }
  return problems;
}

/** Where connectors resolve `${env:…}` / `${file:…}`; anywhere else the text would be used literally. */
const SECRET_FIELDS = new Set(['load.connection', 'extract.connection', 'notify.slack.webhook', 'extract.headers', 'load.password', 'buffer', 'extract.access_key_id', 'extract.secret_access_key', 'extract.session_token', 'extract.endpoint', 'extract.url', 'extract.params', 'extract.body']);
// The elasticsearch sink resolves references in its node URLs, credentials and CA certificate.
for (const f of ['load.node', 'load.auth', 'load.tls.ca']) SECRET_FIELDS.add(f);
// The redshift sink resolves references in its wire URL, its Data API settings and its S3 staging settings.
for (const field of ['load.url', 'load.data_api', 'load.s3']) SECRET_FIELDS.add(field);

function misplacedSecrets(spec: JobSpec): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const walk = (value: unknown, path: PropertyKey[]) => {
    if (typeof value === 'string') {
      const dotted = path.filter((p) => typeof p === 'string').join('.');
      if (hasSecretRef(value) && ![...SECRET_FIELDS].some((f) => dotted === f || dotted.startsWith(f + '.'))) {
        out.push({ path, message: `\${env:…}/\${file:…} references are resolved only in secret fields (${[...SECRET_FIELDS].slice(0, 3).join(', ')}); here the text would be used as is — use \${param:…} or a literal value` });
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(spec, []);
  return out;
}
