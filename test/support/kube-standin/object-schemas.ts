import * as client from '@kubernetes/client-node';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';

interface Validatable { validate(): void }
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'batch/v1/Job': batch.Job, 'v1/Pod': core.Pod, 'v1/Secret': core.Secret, 'v1/Namespace': core.Namespace, 'v1/ConfigMap': core.ConfigMap, 'v1/Service': core.Service,
  'v1/ServiceAccount': core.ServiceAccount, 'v1/PersistentVolumeClaim': core.PersistentVolumeClaim, 'apps/v1/Deployment': apps.Deployment,
  'rbac.authorization.k8s.io/v1/Role': rbac.Role, 'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
};
/** client-node's model class of each kind: its attribute map is the OpenAPI field list. */
const CLIENT_TYPES: Record<string, string> = {
  'batch/v1/Job': 'V1Job', 'v1/Pod': 'V1Pod', 'v1/Secret': 'V1Secret', 'v1/Namespace': 'V1Namespace', 'v1/ConfigMap': 'V1ConfigMap', 'v1/Service': 'V1Service', 'v1/ServiceAccount': 'V1ServiceAccount',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim', 'apps/v1/Deployment': 'V1Deployment', 'rbac.authorization.k8s.io/v1/Role': 'V1Role', 'rbac.authorization.k8s.io/v1/RoleBinding': 'V1RoleBinding',
};

type AttributeMap = Array<{ baseName: string; type: string }>;
const classes = client as unknown as Record<string, { getAttributeTypeMap?(): AttributeMap } | undefined>;

/**
 * Fields the OpenAPI schema does not know (a typo such as `ttlSecondAfterFinished`): the schema validators
 * allow extra properties, the API server drops or refuses them (fieldValidation=Strict), so look for them.
 */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [`${path}: expected a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  const attrs = classes[type]?.getAttributeTypeMap?.();
  if (!attrs || typeof value !== 'object') return [];
  const known = new Map(attrs.map((a) => [a.baseName, a.type]));
  return Object.entries(value as object).flatMap(([k, v]) => (known.has(k) ? unknownFields(v, known.get(k)!, `${path}.${k}`) : [`${path}.${k}: unknown field`]));
}

/** Problems of one object against the official Kubernetes schemas (empty when valid). */
export function kubernetesObjectProblems(obj: { apiVersion?: string; kind?: string }): string[] {
  const id = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[id];
  if (!Model) return [`${id}: no schema for this kind here`];
  const problems: string[] = [];
  try {
    new Model(obj as never).validate();
  } catch (err) {
    problems.push((err as Error).message);
  }
  return [...problems, ...unknownFields(obj, CLIENT_TYPES[id]!, obj.kind!)];
}
