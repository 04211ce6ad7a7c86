import type { MeshProvider } from './injection';
import { sortRevisions } from './revision';

/**
 * Ingress and egress gateways as the AKS add-on runs them: one Service per gateway
 * (`aks-istio-ingressgateway-external`/`-internal` LoadBalancers, an egress gateway's
 * ClusterIP `<name>`) spanning one Deployment per control-plane revision (`<service>-<rev>`,
 * each with its HPA). During and after an upgrade every installed revision should have a
 * ready gateway Deployment and no gateway should run a revision that is gone.
 */

export type GatewayKind = 'ingress-external' | 'ingress-internal' | 'egress' | 'ingress';

export interface GatewayServiceInput {
  name: string;
  namespace: string;
  type: string;
  clusterIP?: string;
  /** Load-balancer ingress IPs or host names. */
  addresses: string[];
  ports: Array<{ name?: string; port: number; protocol?: string }>;
}

export interface GatewayDeploymentInput {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  replicas: number;
  readyReplicas: number;
}

export interface AutoscalerInput {
  name: string;
  namespace: string;
  /** scaleTargetRef of kind Deployment. */
  targetName: string;
  minReplicas?: number;
  maxReplicas: number;
  currentReplicas?: number;
}

export interface GatewayDeploymentView {
  name: string;
  revision?: string;
  replicas: number;
  readyReplicas: number;
  ready: boolean;
  hpa?: { name: string; minReplicas: number; maxReplicas: number; currentReplicas?: number };
}

export interface GatewayLag {
  /** A problem worth a warning: a missing, unready or orphaned revision. */
  lagging: boolean;
  /** Installed control-plane revisions without a gateway Deployment. */
  missingRevisions: string[];
  /** Revisions the gateway runs whose control plane is not installed. */
  orphanedRevisions: string[];
  /** Revisions whose gateway Deployment has fewer ready replicas than wanted. */
  notReadyRevisions: string[];
  /** Plain words, one sentence per problem. */
  messages: string[];
}

export interface GatewayView {
  name: string;
  namespace: string;
  kind: GatewayKind;
  type: string;
  clusterIP?: string;
  addresses: string[];
  portDetails: Array<{ name?: string; port: number; protocol?: string }>;
  deployments: GatewayDeploymentView[];
  /** Revisions the gateway runs, sorted. */
  revisions: string[];
  lag: GatewayLag;
}

export interface GatewayAnalysisInput {
  provider: MeshProvider;
  /** Installed control-plane revisions. */
  revisions: string[];
  /** Revision tags → revision (upstream); a gateway labelled with a tag runs its revision. */
  tags?: Record<string, string>;
  services: GatewayServiceInput[];
  deployments: GatewayDeploymentInput[];
  autoscalers: AutoscalerInput[];
}

const REVISION_LABEL = 'istio.io/rev';
const KIND_ORDER: GatewayKind[] = ['ingress-external', 'ingress-internal', 'ingress', 'egress'];

export function gatewayKind(service: Pick<GatewayServiceInput, 'name' | 'namespace'>): GatewayKind {
  if (service.name === 'aks-istio-ingressgateway-external') return 'ingress-external';
  if (service.name === 'aks-istio-ingressgateway-internal') return 'ingress-internal';
  if (/egress/.test(service.namespace) || /egress/.test(service.name)) return 'egress';
  return 'ingress';
}

/** A gateway's Deployments: `<service>-<rev>` (the add-on) or the Service's own name (upstream). */
export function deploymentsOfGateway(service: Pick<GatewayServiceInput, 'name' | 'namespace'>, deployments: GatewayDeploymentInput[]): GatewayDeploymentInput[] {
  return deployments.filter(d => {
    if (d.namespace !== service.namespace) return false;
    const rev = d.labels[REVISION_LABEL];
    return d.name === service.name || (rev !== undefined && d.name === `${service.name}-${rev}`);
  });
}

/**
 * Where a gateway lags its control plane:
 * - on AKS, an installed revision without a gateway Deployment (the add-on runs one per
 *   revision; after an upgrade its proxies stay on the old revision's config);
 * - a gateway Deployment whose revision is not installed (its proxies get no config);
 * - a gateway Deployment with fewer ready replicas than it wants.
 * Upstream gateways are upgraded in place, so a missing revision is not a lag there.
 */
export function gatewayLag(
  input: { provider: MeshProvider; revisions: string[]; tags?: Record<string, string> },
  service: Pick<GatewayServiceInput, 'name'>,
  deployments: GatewayDeploymentView[],
): GatewayLag {
  const resolve = (rev: string | undefined) => (rev && input.tags?.[rev]) ?? rev;
  const running = new Set(deployments.flatMap(d => (d.revision ? [resolve(d.revision)!] : [])));
  const missingRevisions = input.provider === 'aks' ? input.revisions.filter(r => !running.has(r)) : [];
  const orphanedRevisions = sortRevisions([...running].filter(r => !input.revisions.includes(r)));
  const notReadyRevisions = sortRevisions(deployments.filter(d => !d.ready).map(d => resolve(d.revision) ?? d.name));
  const messages: string[] = [];
  for (const r of missingRevisions) {
    messages.push(
      running.size > 0
        ? `Gateway ${service.name} has no Deployment for ${r}: it still runs only ${sortRevisions(running).join(', ')}, so it lags the control plane.`
        : `Gateway ${service.name} has no Deployment for ${r}: nothing serves its traffic.`,
    );
  }
  for (const r of orphanedRevisions) {
    messages.push(`Gateway ${service.name} runs ${r}, whose control plane is not installed: its proxies get no configuration.`);
  }
  for (const d of deployments.filter(x => !x.ready)) {
    const which = d.revision ? `its ${d.revision} Deployment` : `Deployment ${d.name}`;
    messages.push(`Gateway ${service.name}: ${which} has ${d.readyReplicas}/${d.replicas} replicas ready.`);
  }
  return { lagging: messages.length > 0, missingRevisions, orphanedRevisions, notReadyRevisions, messages };
}

/** Every gateway Service with its per-revision Deployments, their HPAs and its lag. */
export function analyzeGateways(input: GatewayAnalysisInput): GatewayView[] {
  const hpaByTarget = new Map(input.autoscalers.map(h => [`${h.namespace}/${h.targetName}`, h]));
  return input.services
    .map(service => {
      const deployments: GatewayDeploymentView[] = deploymentsOfGateway(service, input.deployments)
        .map(d => {
          const hpa = hpaByTarget.get(`${d.namespace}/${d.name}`);
          return {
            name: d.name,
            ...(d.labels[REVISION_LABEL] ? { revision: d.labels[REVISION_LABEL] } : {}),
            replicas: d.replicas,
            readyReplicas: d.readyReplicas,
            // A Deployment scaled to 0 on purpose is not unready; one that wants pods needs them all.
            ready: d.readyReplicas >= d.replicas,
            ...(hpa
              ? { hpa: { name: hpa.name, minReplicas: hpa.minReplicas ?? 1, maxReplicas: hpa.maxReplicas, ...(hpa.currentReplicas !== undefined ? { currentReplicas: hpa.currentReplicas } : {}) } }
              : {}),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      return {
        name: service.name,
        namespace: service.namespace,
        kind: gatewayKind(service),
        type: service.type,
        ...(service.clusterIP ? { clusterIP: service.clusterIP } : {}),
        addresses: service.addresses,
        portDetails: service.ports,
        deployments,
        revisions: sortRevisions(new Set(deployments.flatMap(d => (d.revision ? [d.revision] : [])))),
        lag: gatewayLag(input, service, deployments),
      };
    })
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name));
}
