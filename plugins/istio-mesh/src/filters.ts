import { Entity } from '@backstage/catalog-model';

const KUBERNETES_ID = 'backstage.io/kubernetes-id';
const KUBERNETES_LABEL_SELECTOR = 'backstage.io/kubernetes-label-selector';

/** The Service Mesh tab applies to entities the Kubernetes plugin can find workloads for. */
export function isServiceMeshAvailable(entity: Entity): boolean {
  const annotations = entity.metadata.annotations ?? {};
  return Boolean(annotations[KUBERNETES_ID] || annotations[KUBERNETES_LABEL_SELECTOR]);
}
