export { createKubernetesExecutor, type KubernetesExecutorOptions } from './kubernetes-executor.js';
export { reapOrphanStageJobs, type ReapOptions, type StageJobLabels } from './orphan-jobs.js';
export { kubernetesSchema, type KubernetesSpec } from './kubernetes-schema.js';
export { stageJobManifest, stageEnvSecret, stageJobName, DEFAULT_STAGE_IMAGE, LABEL } from './stage-job-manifest.js';
