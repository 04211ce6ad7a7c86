import { clockOf } from '../clock';
import type { SandboxCluster } from '../server';
import { CaRootPublisher } from './caRootPublisher';
import { WorkloadControllers } from './workloads';

export { applyMeshRevisions, applyMeshRevisionsNow, DEFAULT_CONTROL_PLANE_DELAY_MS } from './controlPlane';
export type { ApplyMeshRevisionsOptions } from './controlPlane';

/** Clock time one controller step takes (a new pod from created to Ready) unless the cluster says otherwise. */
export const DEFAULT_STEP_MS = 1000;

export interface RunningControllers {
  stop(): void;
}

/**
 * Starts the controllers of a cluster (the server does this for each cluster it serves):
 * the workload controllers and istiod's publishing of `istio-ca-root-cert`.
 */
export function startControllers(cluster: SandboxCluster): RunningControllers {
  const clock = clockOf(cluster);
  const controllers = new WorkloadControllers(cluster.store, { clock, stepMs: cluster.stepMs ?? DEFAULT_STEP_MS });
  const caRoots = new CaRootPublisher(cluster.store);
  return {
    stop: () => {
      controllers.stop();
      caRoots.stop();
    },
  };
}
