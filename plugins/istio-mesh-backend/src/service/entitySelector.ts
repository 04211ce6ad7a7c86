import { Entity } from '@backstage/catalog-model';

export const KUBERNETES_ANNOTATIONS = {
  id: 'backstage.io/kubernetes-id',
  labelSelector: 'backstage.io/kubernetes-label-selector',
  namespace: 'backstage.io/kubernetes-namespace',
  cluster: 'backstage.io/kubernetes-cluster',
} as const;

export interface EntityWorkloadSelector {
  labelSelector: string;
  namespace?: string;
  cluster?: string;
}

/**
 * Finds an entity's objects the way the Kubernetes plugin does, so an entity already set
 * up for the Kubernetes tab needs nothing new: an explicit label selector wins over the
 * `backstage.io/kubernetes-id` label; the namespace and cluster annotations narrow it.
 */
export function entityWorkloadSelector(entity: Entity): EntityWorkloadSelector | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const explicit = annotations[KUBERNETES_ANNOTATIONS.labelSelector];
  const id = annotations[KUBERNETES_ANNOTATIONS.id];
  const labelSelector = explicit || (id ? `${KUBERNETES_ANNOTATIONS.id}=${id}` : undefined);
  if (!labelSelector) return undefined;
  return {
    labelSelector,
    namespace: annotations[KUBERNETES_ANNOTATIONS.namespace] || undefined,
    cluster: annotations[KUBERNETES_ANNOTATIONS.cluster] || undefined,
  };
}
