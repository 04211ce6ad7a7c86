import { analyzeGateways, GatewayStatus } from '@mesh-portal/plugin-istio-mesh-common';
import type { ClusterSnapshot } from '../service/ClusterSnapshots';

/**
 * Ingress and egress gateways of a cluster, from its snapshot: Service, type, addresses,
 * ports, per-revision Deployments with ready replicas and HPA bounds, and lag against the
 * installed control-plane revisions. Served in the cluster detail (`gateways`), which the
 * cluster page already reads, rather than by an endpoint of its own.
 */
export interface GatewayService {
  gatewaysOf(snapshot: ClusterSnapshot): GatewayStatus[];
}

export class DefaultGatewayService implements GatewayService {
  private readonly cache = new WeakMap<ClusterSnapshot, GatewayStatus[]>();

  gatewaysOf(snapshot: ClusterSnapshot): GatewayStatus[] {
    let gateways = this.cache.get(snapshot);
    if (!gateways) {
      const views = analyzeGateways({
        provider: snapshot.provider,
        revisions: snapshot.controlPlane.revisions.map(r => r.revision),
        tags: snapshot.controlPlane.tags,
        services: snapshot.gatewayServices.map(s => ({ ...s, ports: s.portDetails })),
        deployments: snapshot.gatewayDeployments,
        autoscalers: snapshot.gatewayAutoscalers,
      });
      const portsByService = new Map(snapshot.gatewayServices.map(s => [`${s.namespace}/${s.name}`, s.ports]));
      gateways = views.map(v => ({ ...v, ports: portsByService.get(`${v.namespace}/${v.name}`) ?? [] }));
      this.cache.set(snapshot, gateways);
    }
    return gateways;
  }
}
