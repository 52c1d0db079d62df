import { z } from 'zod';
import { SpecError } from '../core/errors.js';
import { hasSecretRef, resolveSecrets } from '../spec/secrets.js';

/*
 * Where an S3 location is and how to reach it, without loading the AWS SDK: job validation and the
 * runtime's bookkeeping use this; only code that talks to S3 loads s3-client.ts.
 */

export interface S3Location {
  bucket: string;
  /** A key, a key prefix, or (for the s3 source) a glob; '' for the whole bucket. */
  key: string;
}

/** S3 connection settings as a job file writes them; credentials are `${env:…}`/`${file:…}` references. */
export interface S3Settings {
  endpoint?: string | undefined;
  region?: string | undefined;
  path_style?: boolean | undefined;
  access_key_id?: string | undefined;
  secret_access_key?: string | undefined;
  session_token?: string | undefined;
}

/** Resolved settings for createS3Client. Absent credentials mean the standard AWS chain. */
export interface S3Connection {
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the first included (throttling, 5xx and network errors are retried). */
  maxAttempts?: number;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const LOCATION = /^s3:\/\/([^/]*)(?:\/(.*))?$/s;
export const SETTING_KEYS = ['endpoint', 'region', 'path_style', 'access_key_id', 'secret_access_key', 'session_token'] as const;
const SECRET_KEYS = new Set(['secret_access_key', 'session_token']);

/** Parses `s3://bucket/key-or-prefix` (no query: a `?` is part of the key, or a glob character). */
export function parseS3Location(url: string): S3Location {
  const m = LOCATION.exec(url);
  if (!m || !BUCKET.test(m[1]!)) {
    throw new SpecError(`${url}: not an S3 location (expected s3://BUCKET/PREFIX; bucket names are 3-63 lowercase letters, digits, "." and "-")`, { details: { value: url, expected: 's3://BUCKET/PREFIX with a bucket name of 3-63 lowercase letters, digits, "." and "-"' } });
  }
  return { bucket: m[1]!, key: m[2] ?? '' };
}

const refOnly = (what: string) =>
  z.string().min(1).refine(hasSecretRef, { message: `${what} must be a \${env:NAME} or \${file:PATH} reference, never the value itself (job files are stored with every run)` });

/** The connection keys every S3 section takes (buffer, the s3 source, later Redshift staging). */
export const s3SettingsShape = {
  endpoint: z.string().url('expected a URL like https://minio.internal:9000').optional().describe('S3-compatible endpoint URL (MinIO, s3rver, Ceph…); default: AWS, or $AWS_ENDPOINT_URL_S3'),
  region: z.string().min(1).optional().describe('AWS region; default: the standard chain ($AWS_REGION, ~/.aws/config), else us-east-1 (other regions are followed by redirect)'),
  path_style: z.boolean().optional().describe('Bucket in the path (http://host/bucket/key), as S3-compatible stores want; default: true when endpoint is set'),
  access_key_id: z.string().min(1).optional().describe('Access key id, e.g. "${env:MY_KEY_ID}"; default: the standard AWS credential chain'),
  secret_access_key: refOnly('secret_access_key').optional().describe('Secret key as a reference, e.g. "${env:MY_SECRET}"'),
  session_token: refOnly('session_token').optional().describe('Session token (temporary credentials) as a reference'),
};

/** Checks what a zod refine cannot express per key: credentials come in pairs. */
export function settingsProblem(s: S3Settings): string | null {
  if ((s.access_key_id === undefined) !== (s.secret_access_key === undefined)) return 'give both access_key_id and secret_access_key, or neither (then the standard AWS credential chain is used)';
  if (s.session_token !== undefined && s.access_key_id === undefined) return 'session_token needs access_key_id and secret_access_key';
  return null;
}

/** `s3://bucket/prefix?endpoint=…`: the one string the runtime records and hands to every stage. */
export function formatS3BufferUrl(url: string, settings: S3Settings): string {
  const query = new URLSearchParams();
  for (const key of SETTING_KEYS) if (settings[key] !== undefined) query.set(key, String(settings[key]));
  const q = query.toString();
  return q ? `${url.replace(/\?.*$/s, '')}?${q}` : url;
}

export function parseS3BufferUrl(url: string): S3Location & { settings: S3Settings } {
  const at = url.indexOf('?');
  const location = parseS3Location(at === -1 ? url : url.slice(0, at));
  const settings: S3Settings = {};
  if (at !== -1) {
    for (const [key, value] of new URLSearchParams(url.slice(at + 1))) {
      if (!(SETTING_KEYS as readonly string[]).includes(key)) {
        throw new SpecError(`buffer ${location.bucket}: unknown setting '${key}'`, { details: { value: key, expected: SETTING_KEYS.join(', ') } });
      }
      if (key === 'path_style') settings.path_style = value === 'true';
      else settings[key as Exclude<keyof S3Settings, 'path_style'>] = value;
    }
  }
  return { ...location, key: location.key.replace(/\/+$/, ''), settings };
}

/** A buffer URL as it may be shown: bucket and prefix only. */
export function displayS3Url(url: string): string {
  return url.replace(/\?.*$/s, '');
}

/** Problems of an `s3://…` buffer string, for validation (null when fine). */
export function s3BufferUrlProblem(url: string): string | null {
  let parsed;
  try {
    parsed = parseS3BufferUrl(url);
  } catch (err) {
    return (err as Error).message;
  }
  for (const key of SECRET_KEYS) {
    const v = parsed.settings[key as keyof S3Settings];
    if (typeof v === 'string' && !hasSecretRef(v)) return `${key} must be a \${env:NAME} or \${file:PATH} reference, never the value itself`;
  }
  return settingsProblem(parsed.settings);
}

/** Resolves references at the moment of connecting; the values are remembered for log scrubbing. */
export function resolveS3Settings(settings: S3Settings, baseDir: string, env: NodeJS.ProcessEnv = process.env): S3Connection {
  const value = (v: string | undefined) => (v === undefined ? undefined : resolveSecrets(v, baseDir, env));
  const conn: S3Connection = {};
  const endpoint = value(settings.endpoint);
  if (endpoint !== undefined) conn.endpoint = endpoint;
  const region = value(settings.region);
  if (region !== undefined) conn.region = region;
  if (settings.path_style !== undefined) conn.pathStyle = settings.path_style;
  else if (endpoint !== undefined) conn.pathStyle = true;
  const accessKeyId = value(settings.access_key_id);
  const secretAccessKey = value(settings.secret_access_key);
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = value(settings.session_token);
    conn.credentials = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
  }
  return conn;
}

/**
 * Buffer credentials travel to a stage in its task environment, never on its command line: the runtime
 * resolves the references just before it starts the task (a container does not see the runner's env).
 */
const TASK_ENV = { access_key_id: 'DATAMILL_BUFFER_ACCESS_KEY_ID', secret_access_key: 'DATAMILL_BUFFER_SECRET_ACCESS_KEY', session_token: 'DATAMILL_BUFFER_SESSION_TOKEN' } as const;

export function bufferTaskEnv(bufferUrl: string, baseDir: string): Record<string, string> {
  if (!bufferUrl.startsWith('s3://')) return {};
  const { settings } = parseS3BufferUrl(bufferUrl);
  const out: Record<string, string> = {};
  for (const [key, name] of Object.entries(TASK_ENV)) {
    const ref = settings[key as keyof typeof TASK_ENV];
    if (ref !== undefined) out[name] = resolveSecrets(ref, baseDir);
  }
  return out;
}

/** The buffer's connection in this process: credentials handed in by the runtime win over references. */
export function bufferConnection(settings: S3Settings, baseDir: string, env: NodeJS.ProcessEnv = process.env): S3Connection {
  const handed = env[TASK_ENV.secret_access_key] !== undefined && env[TASK_ENV.access_key_id] !== undefined;
  if (!handed) return resolveS3Settings(settings, baseDir, env);
  const { access_key_id: _a, secret_access_key: _s, session_token: _t, ...rest } = settings;
  const conn = resolveS3Settings(rest, baseDir, env);
  const sessionToken = env[TASK_ENV.session_token];
  conn.credentials = { accessKeyId: env[TASK_ENV.access_key_id]!, secretAccessKey: env[TASK_ENV.secret_access_key]!, ...(sessionToken ? { sessionToken } : {}) };
  return conn;
}
