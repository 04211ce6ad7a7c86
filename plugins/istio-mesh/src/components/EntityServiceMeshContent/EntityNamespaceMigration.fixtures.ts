import { Entity } from '@backstage/catalog-model';
import {
  ClusterEntityMeshStatus,
  UpgradeNamespaceStatus,
  UpgradeRun,
  UpgradeStep,
} from '@mesh-portal/plugin-istio-mesh-common';

export const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', annotations: { 'backstage.io/kubernetes-id': 'checkout' } },
  spec: { type: 'service', owner: 'team-storefront', lifecycle: 'production' },
};

const revision = (r: string) => ({ revision: r, version: r === 'asm-1-29' ? '1.29.2' : '1.30.1', replicas: 2, readyReplicas: 2, ready: true });

/** Where the entity runs: storefront in a cluster mid-canary, and a stable cluster. */
export function entityClusters(): ClusterEntityMeshStatus[] {
  const cluster = (name: string, revisions: string[]): ClusterEntityMeshStatus => ({
    cluster: name,
    provider: 'aks',
    meshed: true,
    driftedPods: 0,
    controlPlane: { namespace: 'aks-istio-system', tags: {}, phase: revisions.length > 1 ? 'Canary' : 'Stable', revisions: revisions.map(revision) },
    namespaces: [
      {
        name: 'storefront',
        revisionLabel: 'asm-1-29',
        injection: { mode: 'revision', label: 'asm-1-29', revision: 'asm-1-29' },
        targetRevision: 'asm-1-29',
        workloads: [],
        pods: [],
        driftedPods: 0,
      },
    ],
  });
  return [cluster('aks-prod', ['asm-1-29', 'asm-1-30']), cluster('aks-dev', ['asm-1-29'])];
}

export const adoptStep: UpgradeStep = {
  id: 1,
  action: 'adopt',
  targetRevision: 'asm-1-30',
  actor: 'user:default/platform',
  outcome: 'succeeded',
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:00:00.000Z',
};

/** The run of aks-prod with storefront in a given state. */
export function runWith(storefront: Partial<UpgradeNamespaceStatus>, steps: UpgradeStep[] = [adoptStep], status: UpgradeRun['status'] = 'waiting'): UpgradeRun {
  return {
    id: 'run-1',
    cluster: 'aks-prod',
    provider: 'aks',
    from: 'asm-1-29',
    to: 'asm-1-30',
    phase: 'Migrating',
    status,
    installedRevisions: ['asm-1-29', 'asm-1-30'],
    pendingNamespaces: ['storefront'],
    migratedNamespaces: ['payments'],
    namespaces: [
      { name: 'payments', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 3 }, state: 'migrated' },
      { name: 'storefront', revision: 'asm-1-29', podsByRevision: { 'asm-1-29': 4 }, state: 'pending', ...storefront },
    ],
    guards: { complete: { allowed: false, reason: 'storefront is left' }, rollback: { allowed: true } },
    steps,
    startedBy: 'user:default/platform',
    startedAt: '2026-12-01T10:00:00.000Z',
  };
}
