import { StatusError } from '../errors';
import { matchesLabelSelectorObject } from '../labelSelector';
import { resourceTypeOfKind } from '../resources';
import { ClusterStore, KubeObject } from '../store';
import { istioVersionOf, MCR, UPSTREAM_HUB } from './revisions';

/**
 * Sidecar injection as istiod's injector does it, and the admission step that picks the
 * injector: the cluster's MutatingWebhookConfigurations, evaluated like kube-apiserver
 * does (rules, namespaceSelector, objectSelector), decide which istiod injects a new pod.
 */

/** What one injector puts into a pod. */
export interface SidecarProfile {
  /** The revision of the injecting istiod (never a tag). */
  revision: string;
  /** Istio version, e.g. 1.29.2. */
  version: string;
  proxyImage: string;
  /** istio-proxy as an init container with restartPolicy Always. */
  native: boolean;
  controlPlaneNamespace: string;
}

/** Native sidecars (istio-proxy as an init container) are the add-on's default from asm-1-29 on. */
const NATIVE_SIDECAR_FROM_MINOR = 29;

/**
 * The injector of a revision: the add-on's (`asm-1-29`: MCR distroless images, native
 * sidecars from asm-1-29) or upstream Istio's (`1-26-3`: docker.io images, classic sidecars,
 * as upstream still defaults ENABLE_NATIVE_SIDECARS to false).
 */
export function sidecarProfile(revision: string, controlPlaneNamespace?: string): SidecarProfile {
  const version = istioVersionOf(revision);
  const aks = /^asm-/.test(revision);
  const minor = Number(version.split('.')[1]);
  return {
    revision,
    version,
    proxyImage: aks ? `${MCR}/proxyv2:${version}-distroless` : `${UPSTREAM_HUB}/proxyv2:${version}`,
    native: aks && minor >= NATIVE_SIDECAR_FROM_MINOR,
    controlPlaneNamespace: controlPlaneNamespace ?? (aks ? 'aks-istio-system' : 'istio-system'),
  };
}

const SIDECAR_VOLUMES = ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'];

/** The containers, labels and annotations the injector adds to a pod's metadata and spec. */
export function injectSidecarSpec(pod: KubeObject, profile: SidecarProfile): void {
  const { revision, native } = profile;
  const proxy = {
    name: 'istio-proxy',
    image: profile.proxyImage,
    args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
    ports: [{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }],
    env: [
      { name: 'CA_ADDR', value: `istiod-${revision}.${profile.controlPlaneNamespace}.svc:15012` },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
    ],
    readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
    ...(native ? { restartPolicy: 'Always' } : {}),
  };
  const init = { name: 'istio-init', image: profile.proxyImage, args: ['istio-iptables'] };
  pod.metadata.labels = {
    ...pod.metadata.labels,
    'istio.io/rev': revision,
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': pod.metadata.labels?.app ?? pod.metadata.name ?? pod.metadata.generateName?.replace(/-$/, ''),
    'service.istio.io/canonical-revision': 'latest',
  };
  pod.metadata.annotations = {
    ...pod.metadata.annotations,
    'istio.io/rev': revision,
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': JSON.stringify({
      initContainers: native ? ['istio-init', 'istio-proxy'] : ['istio-init'],
      containers: native ? null : ['istio-proxy'],
      volumes: SIDECAR_VOLUMES,
      imagePullSecrets: null,
      revision,
    }),
  };
  pod.spec.initContainers = native ? [...(pod.spec.initContainers ?? []), init, proxy] : [...(pod.spec.initContainers ?? []), init];
  if (!native) pod.spec.containers = [...pod.spec.containers, proxy];
}

/**
 * Why istiod's injector would return a pod unchanged, or `undefined` when it injects it:
 * not a pod, already injected (istiod skips pods with a `sidecar.istio.io/status`
 * annotation), or opted out with the annotation `sidecar.istio.io/inject: "false"` (the
 * label of the same name is the webhooks' objectSelector, so such pods never get here).
 */
export function injectionSkipReason(pod: KubeObject): string | undefined {
  if (!pod?.metadata || !pod.spec || !Array.isArray(pod.spec.containers)) return 'not a pod';
  if (pod.metadata.annotations?.['sidecar.istio.io/status']) return 'already injected';
  if (pod.metadata.annotations?.['sidecar.istio.io/inject'] === 'false') return 'opted out by annotation';
  return undefined;
}

/**
 * The injection rules as a pure function: pod + revision (or a full profile) → the pod
 * as the revision's injector returns it. The input is never modified; a pod the injector
 * skips ({@link injectionSkipReason}) comes back as it is. The sandbox's admission
 * ({@link admitPod}) uses it directly, the real-cluster admission webhook
 * (`../admission`) sends the difference as a JSONPatch.
 */
export function injectedPod(pod: KubeObject, profileOrRevision: SidecarProfile | string): KubeObject {
  if (injectionSkipReason(pod)) return pod;
  const profile = typeof profileOrRevision === 'string' ? sidecarProfile(profileOrRevision) : profileOrRevision;
  const copy = structuredClone(pod);
  injectSidecarSpec(copy, profile);
  return copy;
}

/**
 * Injects a pod that is already Running (for seeding): spec and metadata as
 * {@link injectSidecarSpec}, plus the container statuses of a started pod. The old
 * signature `(pod, revision, controlPlaneNamespace?)` still works.
 */
export function injectSidecar(pod: any, profileOrRevision: SidecarProfile | string, controlPlaneNamespace?: string): void {
  const profile = typeof profileOrRevision === 'string' ? sidecarProfile(profileOrRevision, controlPlaneNamespace) : profileOrRevision;
  injectSidecarSpec(pod, profile);
  const startedAt = pod.status.startTime;
  const running = (c: any) => ({ name: c.name, ready: true, restartCount: 0, started: true, image: c.image, state: { running: { startedAt } } });
  pod.status.containerStatuses = pod.spec.containers.map(running);
  pod.status.initContainerStatuses = pod.spec.initContainers.map((c: any) =>
    c.restartPolicy === 'Always'
      ? running(c)
      : { name: c.name, ready: true, restartCount: 0, started: false, image: c.image, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt } } },
  );
}

/** The revision that injected a pod's sidecar, from its `sidecar.istio.io/status` annotation. */
export function sidecarRevisionOf(pod: KubeObject): string | undefined {
  const status = pod.metadata?.annotations?.['sidecar.istio.io/status'];
  if (!status) return undefined;
  try {
    return JSON.parse(status).revision ?? pod.metadata?.annotations?.['istio.io/rev'];
  } catch {
    return undefined;
  }
}

/** The istiod a pod's sidecar talks to, from its CA_ADDR (`istiod-<rev>.<ns>.svc:15012`). */
export function sidecarIstiodOf(pod: KubeObject): { name: string; namespace: string } | undefined {
  const proxy = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c: any) => c.name === 'istio-proxy');
  const caAddr = proxy?.env?.find((e: any) => e.name === 'CA_ADDR')?.value;
  const m = typeof caAddr === 'string' ? /^([^.]+)\.([^.]+)\.svc/.exec(caAddr) : null;
  return m ? { name: m[1], namespace: m[2] } : undefined;
}

function matchesPodCreate(rules: any[] | undefined): boolean {
  return (rules ?? []).some(
    r =>
      (r.apiGroups ?? []).some((g: string) => g === '' || g === '*') &&
      (r.resources ?? []).some((res: string) => res === 'pods' || res === '*') &&
      (r.operations ?? []).some((op: string) => op === 'CREATE' || op === '*'),
  );
}

/**
 * The mutating admission a new pod goes through: every MutatingWebhookConfiguration, in
 * name order, whose rules cover pod CREATE and whose namespace and object selectors match,
 * calls its service; an istiod service (`istiod-<rev>`) injects its revision's sidecar,
 * unless an earlier one already did (istiod skips injected pods). Revision tags need no
 * special case: `istio-revision-tag-<tag>` is a webhook that calls the tagged istiod.
 * The pod's own `sidecar.istio.io/inject: "false"` annotation is honoured as istiod does.
 * A matching webhook whose istiod Service is gone fails the create (failurePolicy Fail),
 * with kube-apiserver's 500 InternalError.
 */
export function admitPod(store: ClusterStore, namespace: string, pod: KubeObject): KubeObject {
  if (injectionSkipReason(pod)) return pod;
  const nsLabels = store.peek(resourceTypeOfKind('Namespace'), undefined, namespace)?.metadata.labels ?? {};
  const configurations = [...store.scan(resourceTypeOfKind('MutatingWebhookConfiguration'))].sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : 1,
  );
  for (const configuration of configurations) {
    for (const webhook of configuration.webhooks ?? []) {
      if (!matchesPodCreate(webhook.rules)) continue;
      if (!matchesLabelSelectorObject(webhook.namespaceSelector, nsLabels)) continue;
      if (!matchesLabelSelectorObject(webhook.objectSelector, pod.metadata.labels)) continue;
      const service = webhook.clientConfig?.service;
      const m = typeof service?.name === 'string' ? /^istiod(?:-(.+))?$/.exec(service.name) : null;
      if (!m) continue;
      if (!store.peek(resourceTypeOfKind('Service'), service.namespace, service.name)) {
        // failurePolicy Fail: a webhook whose istiod is gone (a dangling tag) blocks pod creation.
        throw new StatusError(
          500,
          'InternalError',
          `Internal error occurred: failed calling webhook "${webhook.name}": failed to call webhook: Post "https://${service.name}.${service.namespace}.svc:${service.port ?? 443}${service.path ?? '/'}?timeout=10s": service "${service.name}" not found`,
        );
      }
      const revision = m[1] ?? 'default';
      return injectedPod(pod, profileFromIstiod(store, revision, service.namespace));
    }
  }
  return pod;
}

/** The injector's images follow the running istiod (a patch upgrade changes both). */
function profileFromIstiod(store: ClusterStore, revision: string, namespace: string): SidecarProfile {
  const profile = sidecarProfile(revision, namespace);
  const istiod = store.peek(resourceTypeOfKind('Deployment'), namespace, `istiod-${revision}`);
  const pilotImage: unknown = istiod?.spec?.template?.spec?.containers?.[0]?.image;
  if (typeof pilotImage === 'string' && pilotImage.includes('/pilot:')) {
    const proxyImage = pilotImage.replace('/pilot:', '/proxyv2:');
    const version = pilotImage.slice(pilotImage.lastIndexOf(':') + 1).replace(/-distroless$/, '');
    return { ...profile, proxyImage, version };
  }
  return profile;
}
