import { z } from 'zod';
import { durationSchema } from '../../spec/common-schemas.js';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes name: lowercase letters, digits and "-", at most 63 characters');
const absolutePath = z.string().regex(/^\/.*/, 'expected an absolute path inside the pod ("/var/lib/datamill")');

/** A volume mounted into every stage pod: a PersistentVolumeClaim (the file buffer, input files), a Secret (`${file:…}` secrets) or a ConfigMap. */
export const kubernetesMountSchema = z
  .union([
    z.strictObject({
      claim: dnsLabel.describe('PersistentVolumeClaim name'),
      path: absolutePath.describe('Mount path; a file:// buffer must lie under a claim mounted at the same path the runner sees'),
      read_only: z.boolean().default(false),
    }),
    z.strictObject({
      secret: dnsLabel.describe('Secret name; each key becomes a file'),
      path: absolutePath.describe('Mount path (read-only); point ${file:…} references here'),
    }),
    z.strictObject({
      config_map: dnsLabel.describe('ConfigMap name; each key becomes a file (small reference files, the job files themselves)'),
      path: absolutePath.describe('Mount path (read-only)'),
    }),
  ])
  .describe('A volume for every stage pod: { claim, path }, { secret, path } or { config_map, path }');

/** The job-level `kubernetes:` block: where and how stage Jobs run (executor: kubernetes). */
export const kubernetesSchema = z
  .strictObject({
    namespace: dnsLabel.optional().describe('Namespace of the stage Jobs (default: the kubeconfig context\'s, or the pod\'s own in a cluster)'),
    service_account: dnsLabel.optional().describe('ServiceAccount the stage pods run as (its token is not mounted)'),
    node_selector: z.record(z.string(), z.string()).optional().describe('Node labels a stage pod must land on'),
    ttl: durationSchema.default('10m').describe('How long a finished stage Job is kept (ttlSecondsAfterFinished) in case Datamill cannot delete it'),
    image_pull_policy: z.enum(['Always', 'IfNotPresent', 'Never']).optional().describe('Pull policy of the stage image (default: Kubernetes\' own)'),
    image_pull_secrets: z.array(dnsLabel).optional().describe('Secrets holding registry credentials'),
    env_from_secrets: z.array(dnsLabel).optional().describe('Secrets whose keys become environment variables of every stage: where ${env:NAME} references are resolved'),
    mounts: z.array(kubernetesMountSchema).optional(),
    labels: z.record(z.string(), z.string()).optional().describe('Extra labels on stage Jobs and pods'),
    annotations: z.record(z.string(), z.string()).optional().describe('Extra annotations on stage pods'),
    command: z.array(z.string()).min(1).optional().describe('Entrypoint of the stage container when the image\'s is not `datamill`'),
  })
  .describe('Kubernetes settings for executor: kubernetes (each stage attempt a batch/v1 Job)');

export type KubernetesSpec = z.output<typeof kubernetesSchema>;
export type KubernetesMount = z.output<typeof kubernetesMountSchema>;
