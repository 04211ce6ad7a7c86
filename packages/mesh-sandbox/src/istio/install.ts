import { resourceTypeOfKind } from '../resources';
import { addDeployment, addNamespace } from '../seed';
import { ClusterStore, KubeObject } from '../store';
import { istioVersionOf, MCR, UPSTREAM_HUB } from './revisions';
import { copySecretProviderClass, existingPluginCa, pluginCaVolume, secretProviderClassName } from './trust';

/**
 * What installing one Istio control-plane revision puts into a cluster, in two layouts:
 * the AKS add-on's (`aks-istio-system`, MCR images, per-revision ingress gateways) and
 * upstream Istio's revisioned install (`istio-system`, docker.io images). Used to seed the
 * demo fleet and by `applyMeshRevisions` when revisions come and go.
 */

export interface MeshLayout {
  flavor: 'aks' | 'upstream';
  controlPlaneNamespace: string;
  /** Where the add-on's per-revision ingress gateway Deployments live (AKS only). */
  ingressNamespace?: string;
}

export const AKS_LAYOUT: MeshLayout = { flavor: 'aks', controlPlaneNamespace: 'aks-istio-system', ingressNamespace: 'aks-istio-ingress' };
export const UPSTREAM_LAYOUT: MeshLayout = { flavor: 'upstream', controlPlaneNamespace: 'istio-system' };

export type IngressGatewayMode = 'external' | 'internal';

/** Where the add-on's egress gateways live unless their ARM entry names another namespace. */
export const EGRESS_NAMESPACE = 'aks-istio-egress';

const MANAGED = { 'kubernetes.azure.com/managedby': 'aks' };
const t = resourceTypeOfKind;

/** The add-on's layout when the cluster has `aks-istio-system`, else upstream's. */
export function layoutOf(store: ClusterStore): MeshLayout {
  return store.peek(t('Namespace'), undefined, AKS_LAYOUT.controlPlaneNamespace) ? AKS_LAYOUT : UPSTREAM_LAYOUT;
}

/** The revisions whose istiod Deployment is installed, sorted. */
export function installedRevisions(store: ClusterStore, layout: MeshLayout = layoutOf(store)): string[] {
  const out: string[] = [];
  for (const d of store.scan(t('Deployment'), layout.controlPlaneNamespace)) {
    const rev = d.metadata.labels?.['istio.io/rev'];
    if (d.metadata.labels?.app === 'istiod' && rev && d.metadata.name === `istiod-${rev}`) out.push(rev);
  }
  return out.sort();
}

export function injectorWebhookName(revision: string, layout: MeshLayout): string {
  return layout.flavor === 'aks' ? `istio-sidecar-injector-${revision}-${layout.controlPlaneNamespace}` : `istio-sidecar-injector-${revision}`;
}

export function validatorWebhookName(revision: string, layout: MeshLayout): string {
  return `istio-validator-${revision}-${layout.controlPlaneNamespace}`;
}

export function ingressGatewayName(mode: IngressGatewayMode, revision: string): string {
  return `aks-istio-ingressgateway-${mode}-${revision}`;
}

/**
 * Where kube-apiserver sends a webhook's AdmissionReviews: istiod's Service in a cluster,
 * or a URL (with the CA that signed its certificate) for a webhook served outside the
 * cluster, as the real-cluster tests do (`../admission`).
 */
export type WebhookClientConfig =
  | { service: { name: string; namespace: string; path?: string; port?: number } }
  | { url: string; caBundle?: string };

/** istiod's injection endpoint, as istiod's installers register it. */
export function istiodClientConfig(service: { name: string; namespace: string }): WebhookClientConfig {
  return { service: { ...service, path: '/inject', port: 443 } };
}

/** The two webhooks of an injector for `value` (a revision or a tag): by namespace label, and by pod label. */
function revisionWebhooks(value: string, clientConfig: WebhookClientConfig): any[] {
  const common = {
    admissionReviewVersions: ['v1'],
    clientConfig,
    rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
    sideEffects: 'None',
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
  };
  return [
    {
      name: 'rev.namespace.sidecar-injector.istio.io',
      ...common,
      namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [value] }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
      objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
    },
    {
      name: 'rev.object.sidecar-injector.istio.io',
      ...common,
      namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'DoesNotExist' }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
      objectSelector: {
        matchExpressions: [
          { key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] },
          { key: 'istio.io/rev', operator: 'In', values: [value] },
        ],
      },
    },
  ];
}

/** The extra webhooks of the `default` tag: `istio-injection=enabled` and `sidecar.istio.io/inject=true` pods (upstream only). */
function defaultTagWebhooks(service: { name: string; namespace: string }): any[] {
  const [template] = revisionWebhooks('default', istiodClientConfig(service));
  return [
    {
      ...template,
      name: 'namespace.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
      objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
    },
    {
      ...template,
      name: 'object.sidecar-injector.istio.io',
      namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'DoesNotExist' }, { key: 'istio.io/rev', operator: 'DoesNotExist' }] },
      objectSelector: {
        matchExpressions: [
          { key: 'sidecar.istio.io/inject', operator: 'In', values: ['true'] },
          { key: 'istio.io/rev', operator: 'DoesNotExist' },
        ],
      },
    },
  ];
}

/** Who installed a control plane: the add-on (`kubernetes.azure.com/managedby: aks`) or istioctl. */
export function ownerLabels(layout: MeshLayout): Record<string, string> {
  return layout.flavor === 'aks' ? { ...MANAGED } : { 'operator.istio.io/component': 'Pilot' };
}

/** The labels of a revision's istiod Deployment (and of its pods). */
export function istiodLabels(revision: string, layout: MeshLayout = AKS_LAYOUT): Record<string, string> {
  return { app: 'istiod', istio: 'pilot', 'istio.io/rev': revision, ...ownerLabels(layout) };
}

/** The image of an Istio component of a revision: MCR's distroless builds on AKS, docker.io upstream. */
export function componentImage(component: 'pilot' | 'proxyv2', revision: string, layout: MeshLayout = AKS_LAYOUT): string {
  const version = istioVersionOf(revision);
  return layout.flavor === 'aks' ? `${MCR}/${component}:${version}-distroless` : `${UPSTREAM_HUB}/${component}:${version}`;
}

/** The MeshConfig of a revision's `istio-<rev>` ConfigMap (key `mesh`). */
export function meshConfig(revision: string, layout: MeshLayout = AKS_LAYOUT): string {
  const ns = layout.controlPlaneNamespace;
  return layout.flavor === 'aks'
    ? `defaultConfig:\n  discoveryAddress: istiod-${revision}.${ns}.svc:15012\n  gatewayTopology:\n    numTrustedProxies: 1\n  image:\n    imageType: distroless\nenablePrometheusMerge: true\nrootNamespace: ${ns}\ntrustDomain: cluster.local\n`
    : `defaultConfig:\n  discoveryAddress: istiod-${revision}.${ns}.svc:15012\nenablePrometheusMerge: true\nrootNamespace: ${ns}\ntrustDomain: cluster.local\n`;
}

/** istiod's Service ports: xDS, xDS over TLS (also the CA), and the injection webhook. */
export const ISTIOD_SERVICE_PORTS = [
  { name: 'grpc-xds', port: 15010 },
  { name: 'https-dns', port: 15012 },
  { name: 'https-webhook', port: 443, targetPort: 15017 },
];

/**
 * The injector's MutatingWebhookConfiguration of a revision, named as its installer names
 * it (`istio-sidecar-injector-<rev>-aks-istio-system` on AKS): the namespace-label webhook
 * (`istio.io/rev In [rev]`, `istio-injection DoesNotExist`) and the pod-label one, both with
 * the objectSelector `sidecar.istio.io/inject NotIn [false]`, `failurePolicy: Fail` and
 * `sideEffects: None`.
 */
export function injectorWebhookConfiguration(
  revision: string,
  clientConfig: WebhookClientConfig,
  options: { layout?: MeshLayout; createdAt?: string } = {},
): KubeObject {
  const layout = options.layout ?? AKS_LAYOUT;
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: injectorWebhookName(revision, layout),
      labels: { app: 'sidecar-injector', 'istio.io/rev': revision, ...ownerLabels(layout) },
      ...(options.createdAt ? { creationTimestamp: options.createdAt } : {}),
    },
    webhooks: revisionWebhooks(revision, clientConfig),
  };
}

export interface InstallOptions {
  layout?: MeshLayout;
  /** creationTimestamp of what is installed (default: the fleet's seed time). */
  createdAt?: string;
  /** The add-on's ingress gateway Deployments to run for the revision (AKS only). */
  ingressGateways?: IngressGatewayMode[];
  /** The add-on's egress gateways (Service names in `aks-istio-egress`) to run a Deployment `<name>-<rev>` for (AKS only). */
  egressGateways?: string[];
}

/**
 * Installs one revision: istiod (Deployment with its ReplicaSet and Running pods, Service,
 * HPA), the revision's mesh ConfigMap, its injector and validator webhooks and, on AKS,
 * its ingress gateway Deployments. Users' `istio-shared-configmap-<rev>` is not touched.
 */
export function installControlPlaneRevision(store: ClusterStore, revision: string, options: InstallOptions = {}): void {
  const layout = options.layout ?? AKS_LAYOUT;
  const ns = layout.controlPlaneNamespace;
  const aks = layout.flavor === 'aks';
  const version = istioVersionOf(revision);
  const image = (component: 'pilot' | 'proxyv2') => componentImage(component, revision, layout);
  const owner = ownerLabels(layout);
  const labels = { app: 'istiod', 'istio.io/rev': revision, ...owner };
  const createdAt = options.createdAt;
  // Enabling the mesh creates the add-on's namespaces (istioctl creates istio-system).
  for (const name of [ns, ...(aks && layout.ingressNamespace ? [layout.ingressNamespace] : [])]) {
    if (!store.peek(t('Namespace'), undefined, name)) addNamespace(store, name, aks ? MANAGED : {});
  }
  // A mesh on a plug-in CA keeps it for every revision: the add-on gives the new istiod
  // its own SecretProviderClass on the same Key Vault objects and mounts it as `cacerts`.
  const pluginCa = aks ? existingPluginCa(store, ns) : undefined;
  if (pluginCa) copySecretProviderClass(store, pluginCa, revision);
  addDeployment(store, {
    namespace: ns,
    name: `istiod-${revision}`,
    replicas: 2,
    image: image('pilot'),
    labels: istiodLabels(revision, layout),
    createdAt,
    ...(pluginCa ? pluginCaVolume(revision) : {}),
  });
  const meta = (name: string, extra: Record<string, string> = labels) => ({ name, namespace: ns, labels: extra, ...(createdAt ? { creationTimestamp: createdAt } : {}) });
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(`istiod-${revision}`),
    spec: { type: 'ClusterIP', selector: { app: 'istiod', 'istio.io/rev': revision }, ports: ISTIOD_SERVICE_PORTS.map(p => ({ ...p })) },
  });
  store.add({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(`istiod-${revision}`),
    spec: { minReplicas: 2, maxReplicas: 5, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `istiod-${revision}` }, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
  });
  store.add({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(`istio-${revision}`, { 'istio.io/rev': revision, ...owner }),
    data: { mesh: meshConfig(revision, layout) },
  });
  if (!aks) {
    store.add({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`istio-sidecar-injector-${revision}`, { 'istio.io/rev': revision, ...owner }),
      data: { values: JSON.stringify({ revision, global: { hub: UPSTREAM_HUB, tag: version } }), config: 'policy: enabled\n' },
    });
  }
  const service = { name: `istiod-${revision}`, namespace: ns };
  store.add(injectorWebhookConfiguration(revision, istiodClientConfig(service), { layout, createdAt }));
  store.add({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: validatorWebhookName(revision, layout), labels: { app: 'istiod', 'istio.io/rev': revision, ...owner }, ...(createdAt ? { creationTimestamp: createdAt } : {}) },
    webhooks: [],
  });
  if (aks && layout.ingressNamespace) {
    for (const mode of options.ingressGateways ?? ['external']) {
      addGatewayDeployment(store, layout.ingressNamespace, `aks-istio-ingressgateway-${mode}`, revision, image('proxyv2'), createdAt);
    }
  }
  if (aks) {
    for (const name of options.egressGateways ?? []) {
      addGatewayDeployment(store, EGRESS_NAMESPACE, name, revision, image('proxyv2'), createdAt, 'aks-istio-egressgateway');
    }
  }
}

/**
 * A gateway's Deployment for one revision (`<gateway>-<rev>`) with its HPA. As during an
 * add-on canary, the HPA bounds of the gateway's other revision (the stable one) carry
 * over to the new one; 2–5 replicas otherwise.
 */
export function addGatewayDeployment(
  store: ClusterStore,
  namespace: string,
  gateway: string,
  revision: string,
  image: string,
  createdAt?: string,
  istioLabel: string = gateway,
): void {
  const name = `${gateway}-${revision}`;
  const hpas = t('HorizontalPodAutoscaler');
  const sibling = [...store.scan(hpas, namespace)].find(h => h.metadata.name.startsWith(`${gateway}-`) && h.metadata.labels?.app === gateway);
  const minReplicas = sibling?.spec?.minReplicas ?? 2;
  const maxReplicas = sibling?.spec?.maxReplicas ?? 5;
  const labels = { app: gateway, istio: istioLabel, 'istio.io/rev': revision, ...MANAGED };
  addDeployment(store, { namespace, name, replicas: minReplicas, image, labels, createdAt });
  store.add({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace, labels, ...(createdAt ? { creationTimestamp: createdAt } : {}) },
    spec: {
      minReplicas,
      maxReplicas,
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    },
    status: { currentReplicas: minReplicas, desiredReplicas: minReplicas },
  });
}

/** Deletes an object if it exists, with what it owns (ReplicaSets and pods), as the garbage collector would. */
function deleteWithDependents(store: ClusterStore, kind: string, namespace: string | undefined, name: string): void {
  const type = t(kind);
  const obj = store.peek(type, namespace, name);
  if (!obj) return;
  const uid = obj.metadata.uid;
  store.delete(type, namespace, name);
  if (!namespace) return;
  for (const dependentKind of ['ReplicaSet', 'Pod']) {
    const owned = [...store.scan(t(dependentKind), namespace)].filter((o: KubeObject) =>
      (o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid),
    );
    for (const o of owned) deleteWithDependents(store, dependentKind, namespace, o.metadata.name);
  }
}

/**
 * Removes what {@link installControlPlaneRevision} installed. The revision's
 * `istio-shared-configmap-<rev>` stays: users own it (and delete it after an upgrade).
 */
export function removeControlPlaneRevision(store: ClusterStore, revision: string, layout: MeshLayout = AKS_LAYOUT): void {
  const ns = layout.controlPlaneNamespace;
  deleteWithDependents(store, 'MutatingWebhookConfiguration', undefined, injectorWebhookName(revision, layout));
  deleteWithDependents(store, 'ValidatingWebhookConfiguration', undefined, validatorWebhookName(revision, layout));
  if (layout.ingressNamespace) {
    for (const mode of ['external', 'internal'] as const) {
      deleteWithDependents(store, 'HorizontalPodAutoscaler', layout.ingressNamespace, ingressGatewayName(mode, revision));
      deleteWithDependents(store, 'Deployment', layout.ingressNamespace, ingressGatewayName(mode, revision));
    }
  }
  if (layout.flavor === 'aks') {
    const egress = [...store.scan(t('Deployment'), EGRESS_NAMESPACE)].filter(d => d.metadata.labels?.['istio.io/rev'] === revision);
    for (const d of egress) {
      deleteWithDependents(store, 'HorizontalPodAutoscaler', EGRESS_NAMESPACE, d.metadata.name);
      deleteWithDependents(store, 'Deployment', EGRESS_NAMESPACE, d.metadata.name);
    }
  }
  deleteWithDependents(store, 'SecretProviderClass', ns, secretProviderClassName(revision));
  deleteWithDependents(store, 'HorizontalPodAutoscaler', ns, `istiod-${revision}`);
  deleteWithDependents(store, 'Service', ns, `istiod-${revision}`);
  deleteWithDependents(store, 'ConfigMap', ns, `istio-${revision}`);
  deleteWithDependents(store, 'ConfigMap', ns, `istio-sidecar-injector-${revision}`);
  deleteWithDependents(store, 'Deployment', ns, `istiod-${revision}`);
}

/** Users' MeshConfig for a revision (`istio-shared-configmap-<rev>`), as the demo fleet's users wrote it. */
export function addSharedMeshConfig(store: ClusterStore, revision: string, layout: MeshLayout = AKS_LAYOUT): void {
  store.add({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `istio-shared-configmap-${revision}`, namespace: layout.controlPlaneNamespace },
    // gatewayTopology is also set by the add-on's istio-<rev>, whose value wins: the portal shows it as overridden.
    data: {
      mesh: [
        `# Shared MeshConfig of the platform team (istiod merges it under the add-on's istio-${revision}).`,
        'accessLogFile: /dev/stdout',
        'accessLogEncoding: JSON',
        'defaultConfig:',
        '  holdApplicationUntilProxyStarts: true',
        '  gatewayTopology:',
        '    numTrustedProxies: 2',
        '',
      ].join('\n'),
    },
  });
}

/**
 * An upstream revision tag (`istioctl tag set <tag> --revision <rev>`): the mutating
 * webhook `istio-revision-tag-<tag>` that sends pods of namespaces labelled
 * `istio.io/rev=<tag>` to the tagged istiod. The `default` tag also serves
 * `istio-injection=enabled` namespaces.
 */
export function setRevisionTag(store: ClusterStore, tag: string, revision: string, layout: MeshLayout = UPSTREAM_LAYOUT): void {
  const service = { name: `istiod-${revision}`, namespace: layout.controlPlaneNamespace };
  const body = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: `istio-revision-tag-${tag}`,
      labels: { app: 'sidecar-injector', 'istio.io/rev': revision, 'istio.io/tag': tag, 'operator.istio.io/component': 'Pilot' },
    },
    webhooks: [...revisionWebhooks(tag, istiodClientConfig(service)), ...(tag === 'default' ? defaultTagWebhooks(service) : [])],
  };
  const type = t('MutatingWebhookConfiguration');
  const current = store.peek(type, undefined, body.metadata.name);
  if (current) store.replace(type, undefined, body.metadata.name, { ...body, metadata: { ...current.metadata, labels: body.metadata.labels } });
  else store.add(body);
}
