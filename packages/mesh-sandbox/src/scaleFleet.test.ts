import { sidecarRevisionOf } from './istio/injection';
import { resourceTypeOfKind } from './resources';
import { createScaleFleet } from './scaleFleet';
import { startSandboxServer } from './server';
import { ClusterStore } from './store';
import { demoToken } from './fleet';

const t = resourceTypeOfKind;
const SYSTEM_NAMESPACES = ['kube-system', 'default', 'aks-istio-system', 'aks-istio-ingress'];

function appPods(store: ClusterStore) {
  return [...store.scan(t('Pod'))].filter(p => !SYSTEM_NAMESPACES.includes(p.metadata.namespace));
}

describe('createScaleFleet', () => {
  const fleet = createScaleFleet({ clusters: 5, namespacesPerCluster: 30, podsPerCluster: 400, seed: 3 });

  it('builds the asked number of clusters, namespaces and pods', () => {
    expect([...fleet.clusters.keys()]).toEqual(['aks-scale-01', 'aks-scale-02', 'aks-scale-03', 'aks-scale-04', 'aks-scale-05']);
    for (const [name, cluster] of fleet.clusters) {
      const namespaces = [...cluster.store.scan(t('Namespace'))].map(n => n.metadata.name);
      expect(namespaces.filter(n => !SYSTEM_NAMESPACES.includes(n))).toHaveLength(30);
      expect(appPods(cluster.store)).toHaveLength(400);
      const summary = fleet.summary.clusters.find(c => c.name === name)!;
      expect(summary.pods).toBe(400);
      expect([...cluster.store.scan(t('Deployment'))].filter(d => !SYSTEM_NAMESPACES.includes(d.metadata.namespace))).toHaveLength(summary.deployments);
    }
    // Deterministic for the seed:
    expect(fleet.summary.clusters.map(c => [c.name, c.deployments, c.injectedPods, c.driftedPods])).toEqual([
      ['aks-scale-01', 166, 292, 21],
      ['aks-scale-02', 170, 333, 21],
      ['aks-scale-03', 175, 305, 21],
      ['aks-scale-04', 168, 306, 20],
      ['aks-scale-05', 171, 281, 20],
    ]);
    // objects: 5 control-plane trust bundles and 6 gateway HPAs (one per ingress Deployment) among them.
    expect(fleet.summary.totals).toEqual({ namespaces: 150, deployments: 850, pods: 2000, injectedPods: 1517, driftedPods: 103, objects: 4934 });
  });

  it('runs the add-on control planes, with the last cluster of every five mid-canary', () => {
    const istiod = (name: string) =>
      [...fleet.clusters.get(name)!.store.scan(t('Deployment'), 'aks-istio-system')].map(d => d.metadata.name).sort();
    expect(fleet.summary.clusters.map(c => [c.name, c.kubernetesVersion, c.revisions])).toEqual([
      ['aks-scale-01', '1.32.7', ['asm-1-29']],
      ['aks-scale-02', '1.33.3', ['asm-1-29']],
      ['aks-scale-03', '1.34.2', ['asm-1-30']],
      ['aks-scale-04', '1.32.7', ['asm-1-29']],
      ['aks-scale-05', '1.33.3', ['asm-1-29', 'asm-1-30']],
    ]);
    expect(istiod('aks-scale-05')).toEqual(['istiod-asm-1-29', 'istiod-asm-1-30']);
    expect(istiod('aks-scale-03')).toEqual(['istiod-asm-1-30']);
    // Mid-canary: some namespaces already point at the canary.
    const labels = [...fleet.clusters.get('aks-scale-05')!.store.scan(t('Namespace'))].map(n => n.metadata.labels['istio.io/rev']);
    expect(labels).toContain('asm-1-29');
    expect(labels).toContain('asm-1-30');
  });

  it('injects pods per their namespace label, with about 5% drifted, as the summary says', () => {
    for (const [name, cluster] of fleet.clusters) {
      const namespaces = new Map([...cluster.store.scan(t('Namespace'))].map(n => [n.metadata.name, n.metadata.labels]));
      let injected = 0;
      let drifted = 0;
      let uninjectedNamespaceWithSidecar = 0;
      for (const pod of appPods(cluster.store)) {
        const rev = sidecarRevisionOf(pod);
        const label = namespaces.get(pod.metadata.namespace)!['istio.io/rev'];
        if (rev) injected++;
        if (rev && rev !== label) drifted++;
        if (!label && rev) uninjectedNamespaceWithSidecar++;
      }
      expect(uninjectedNamespaceWithSidecar).toBe(0);
      const summary = fleet.summary.clusters.find(c => c.name === name)!;
      expect([injected, drifted]).toEqual([summary.injectedPods, summary.driftedPods]);
      // The target is 5% of 400 = 20 pods; whole Deployments drift, so it may overshoot by up to 3.
      expect(drifted).toBeGreaterThanOrEqual(20);
      expect(drifted).toBeLessThanOrEqual(23);
    }
  });

  it('is deterministic for a seed', () => {
    const again = createScaleFleet({ clusters: 5, namespacesPerCluster: 30, podsPerCluster: 400, seed: 3 });
    expect(again.summary).toEqual(fleet.summary);
    const names = (s: ClusterStore) => appPods(s).map(p => `${p.metadata.namespace}/${p.metadata.name}`).sort();
    expect(names(again.clusters.get('aks-scale-02')!.store)).toEqual(names(fleet.clusters.get('aks-scale-02')!.store));
  });

  it('serves the fleet over the Kubernetes API and ARM', async () => {
    const server = await startSandboxServer({ clusters: fleet.clusters, port: 0, controllers: false });
    try {
      const pods = await fetch(`${server.clusterUrl('aks-scale-01')}/api/v1/pods?limit=500`, {
        headers: { Authorization: `Bearer ${demoToken('aks-scale-01')}` },
      }).then(r => r.json());
      const controlPlanePods = [...fleet.clusters.get('aks-scale-01')!.store.scan(t('Pod'))].length - 400;
      expect(controlPlanePods).toBe(4); // istiod and the external ingress gateway, 2 each
      expect(pods.items).toHaveLength(404);
      expect(pods.items[0]).toMatchObject({ metadata: { resourceVersion: expect.any(String), uid: expect.any(String) }, status: { phase: 'Running' } });
      const arm = await fetch(
        `${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01`,
        { headers: { Authorization: 'Bearer t' } },
      ).then(r => r.json());
      expect(arm.value.map((m: any) => [m.name, m.properties.serviceMeshProfile.istio.revisions])).toEqual([
        ['aks-scale-01', ['asm-1-29']],
        ['aks-scale-02', ['asm-1-29']],
        ['aks-scale-03', ['asm-1-30']],
        ['aks-scale-04', ['asm-1-29']],
        ['aks-scale-05', ['asm-1-29', 'asm-1-30']],
      ]);
    } finally {
      await server.close();
    }
  });

  it('shares the immutable parts of the pods of one Deployment', () => {
    const store = fleet.clusters.get('aks-scale-01')!.store;
    const byOwner = new Map<string, any[]>();
    for (const pod of appPods(store)) {
      const owner = pod.metadata.ownerReferences[0].uid;
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), pod]);
    }
    const [a, b] = [...byOwner.values()].find(p => p.length >= 2)!;
    expect(a.spec.containers).toBe(b.spec.containers);
    expect(a.metadata.labels).toBe(b.metadata.labels);
    expect(a.metadata).not.toBe(b.metadata);
    expect(a.status.podIP).not.toBe(b.status.podIP);
  });
});
