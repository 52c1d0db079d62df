import { CLI } from '../cli.js';
import { startKubeStandin, type KubeStandin } from './standin-server.js';

/** Images the stand-in can "pull": the Datamill image (entrypoint `datamill`) and a bare Node one for scripted stages. */
export const STANDIN_IMAGES = { 'datamill:test': { entrypoint: ['node', CLI] }, 'node:test': { entrypoint: ['node'] } };

/** A stand-in cluster for one test file, its pods' grace periods shortened (SIGKILL 0.3 s after SIGTERM, not 30 s). */
export function standin(): Promise<KubeStandin> {
  return startKubeStandin({ images: STANDIN_IMAGES, graceScale: 0.01 });
}
