import {
  AKS_LAYOUT,
  componentImage,
  injectorWebhookConfiguration,
  ISTIOD_SERVICE_PORTS,
  istiodLabels,
  meshConfig,
  ownerLabels,
} from '../istio/install';
import { applyObject, deleteObject, KubeTarget, kubeRequest, pollUntil } from './kubeRest';
import type { InjectionWebhook } from './injectionWebhook';

/**
 * Installs the AKS Istio add-on's control-plane layout into a real cluster, for tests:
 * namespace `aks-istio-system`, per revision an `istiod-<rev>` Deployment (labels
 * `app=istiod`, `istio.io/rev=<rev>`, MCR pilot image; kwok runs its pods), its Service,
 * its `istio-<rev>` mesh ConfigMap and its injector webhook
 * `istio-sidecar-injector-<rev>-aks-istio-system` with the add-on's selectors, pointing at
 * {@link InjectionWebhook} (`clientConfig.url` + `caBundle`) instead of istiod's Service.
 * The objects are those the sandbox seeds (`../istio/install`), so both look alike.
 *
 * Waits until every istiod is available and kube-apiserver actually calls each webhook
 * (a dry-run pod labelled `istio.io/rev=<rev>` comes back injected): webhook
 * configurations take effect asynchronously, and a pod created too early would silently
 * go uninjected.
 */
export interface AksLikeControlPlaneOptions {
  revisions: string[];
  webhook: Pick<InjectionWebhook, 'urlFor' | 'caBundle'>;
  /** Replicas of each istiod (default 2, the add-on's HPA minimum). */
  istiodReplicas?: number;
  /** How long to wait for istiods and webhooks (default 60 s). */
  timeoutMs?: number;
}

export interface InstalledAksControlPlane {
  namespace: string;
  revisions: string[];
  webhookConfigurations: string[];
  /**
   * Removes what was installed: first the webhook configurations (with failurePolicy
   * Fail, a webhook whose server is gone would block every matching pod), then each
   * revision's Deployment, Service and ConfigMap. With `namespace: true` it also deletes
   * `aks-istio-system` (without waiting for it to finish terminating).
   */
  uninstall(options?: { namespace?: boolean }): Promise<void>;
}

const WEBHOOKS_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

export async function installAksLikeControlPlane(
  target: KubeTarget,
  options: AksLikeControlPlaneOptions,
): Promise<InstalledAksControlPlane> {
  const layout = AKS_LAYOUT;
  const ns = layout.controlPlaneNamespace;
  const replicas = options.istiodReplicas ?? 2;
  const timeoutMs = options.timeoutMs ?? 60_000;

  await applyObject(target, '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ns, labels: ownerLabels(layout) },
  });

  const webhookConfigurations: string[] = [];
  for (const revision of options.revisions) {
    const name = `istiod-${revision}`;
    const selector = { app: 'istiod', 'istio.io/rev': revision };
    await applyObject(target, `/apis/apps/v1/namespaces/${ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, labels: istiodLabels(revision, layout) },
      spec: {
        replicas,
        selector: { matchLabels: selector },
        template: {
          // As istiod's chart: its own pods are never injected (they carry istio.io/rev,
          // which the pod-label webhook would otherwise match).
          metadata: { labels: { ...istiodLabels(revision, layout), 'sidecar.istio.io/inject': 'false' } },
          spec: {
            containers: [
              {
                name: 'discovery',
                image: componentImage('pilot', revision, layout),
                args: ['discovery', '--monitoringAddr=:15014', '--log_output_level=default:info'],
                ports: [
                  { containerPort: 8080, protocol: 'TCP' },
                  { containerPort: 15010, protocol: 'TCP' },
                  { containerPort: 15017, protocol: 'TCP' },
                ],
                env: [{ name: 'REVISION', value: revision }],
              },
            ],
          },
        },
      },
    });
    await applyObject(target, `/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns, labels: { app: 'istiod', 'istio.io/rev': revision, ...ownerLabels(layout) } },
      spec: { type: 'ClusterIP', selector, ports: ISTIOD_SERVICE_PORTS.map(p => ({ ...p, protocol: 'TCP' })) },
    });
    await applyObject(target, `/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `istio-${revision}`, namespace: ns, labels: { 'istio.io/rev': revision, ...ownerLabels(layout) } },
      data: { mesh: meshConfig(revision, layout) },
    });
    const webhook = injectorWebhookConfiguration(revision, { url: options.webhook.urlFor(revision), caBundle: options.webhook.caBundle }, { layout });
    await applyObject(target, WEBHOOKS_PATH, webhook);
    webhookConfigurations.push(webhook.metadata.name);
  }

  for (const revision of options.revisions) {
    await pollUntil(
      `istiod-${revision} to be available`,
      async () => {
        const d = await kubeRequest(target, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/istiod-${revision}`);
        const s = d.status ?? {};
        return s.observedGeneration >= d.metadata.generation && s.readyReplicas === replicas && s.updatedReplicas === replicas ? d : undefined;
      },
      timeoutMs,
    );
    await pollUntil(
      `kube-apiserver to call the injector of ${revision}`,
      async () => {
        const probe = await kubeRequest(target, 'POST', `/api/v1/namespaces/${ns}/pods?dryRun=All`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { generateName: 'injection-probe-', labels: { 'istio.io/rev': revision } },
          spec: { containers: [{ name: 'probe', image: 'registry.k8s.io/pause:3.10' }] },
        });
        const status = probe.metadata?.annotations?.['sidecar.istio.io/status'];
        return status && JSON.parse(status).revision === revision ? probe : undefined;
      },
      timeoutMs,
    );
  }

  return {
    namespace: ns,
    revisions: [...options.revisions],
    webhookConfigurations,
    async uninstall(uninstallOptions = {}) {
      for (const name of webhookConfigurations) await deleteObject(target, `${WEBHOOKS_PATH}/${name}`);
      if (uninstallOptions.namespace) {
        await deleteObject(target, `/api/v1/namespaces/${ns}`);
        return;
      }
      for (const revision of options.revisions) {
        await deleteObject(target, `/apis/apps/v1/namespaces/${ns}/deployments/istiod-${revision}`);
        await deleteObject(target, `/api/v1/namespaces/${ns}/services/istiod-${revision}`);
        await deleteObject(target, `/api/v1/namespaces/${ns}/configmaps/istio-${revision}`);
      }
    },
  };
}
