import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { NotFoundError } from '@backstage/errors';
import {
  analyzeTrust,
  ClusterTrustResponse,
  DEFAULT_TRUST_THRESHOLDS,
  TrustAnalysis,
  TrustThresholds,
  trustThresholdsProblem,
} from '@mesh-portal/plugin-istio-mesh-common';
import type { ClusterSnapshot, ClusterSnapshots } from '../service/ClusterSnapshots';
import { ParsedBundle, parsePemBundle } from './certificates';

/** The mesh's certificates per cluster: from the cluster snapshot, parsed and judged. */
export interface TrustService {
  /** The trust picture of a snapshot (cached per snapshot; used for cluster health too). */
  analyze(snapshot: ClusterSnapshot): TrustAnalysis;
  /** `GET /v1/clusters/:cluster/trust`; NotFoundError for an unknown cluster. */
  getClusterTrust(cluster: string, credentials: BackstageCredentials): Promise<ClusterTrustResponse>;
}

/** `istioMesh.trust.warningDays` / `criticalDays`, checked at startup. */
export function readTrustThresholds(config: Config): TrustThresholds {
  const thresholds = {
    warningDays: config.getOptionalNumber('istioMesh.trust.warningDays') ?? DEFAULT_TRUST_THRESHOLDS.warningDays,
    criticalDays: config.getOptionalNumber('istioMesh.trust.criticalDays') ?? DEFAULT_TRUST_THRESHOLDS.criticalDays,
  };
  const problem = trustThresholdsProblem(thresholds);
  if (problem) throw new Error(`Invalid configuration: ${problem}`);
  return thresholds;
}

// The same bundle sits in most namespaces of a cluster and across refreshes; parse it once.
const PARSE_CACHE_LIMIT = 256;

export class DefaultTrustService implements TrustService {
  private readonly analyses = new WeakMap<ClusterSnapshot, TrustAnalysis>();
  private readonly parsed = new Map<string, ParsedBundle>();

  constructor(
    private readonly options: {
      snapshots: ClusterSnapshots;
      thresholds?: TrustThresholds;
      now?: () => Date;
    },
  ) {}

  private get thresholds(): TrustThresholds {
    return this.options.thresholds ?? DEFAULT_TRUST_THRESHOLDS;
  }

  analyze(snapshot: ClusterSnapshot): TrustAnalysis {
    let analysis = this.analyses.get(snapshot);
    if (!analysis) {
      const meshed = snapshot.namespaces
        .filter(n => n.labels['istio.io/rev'] !== undefined || (snapshot.provider === 'istio' && n.labels['istio-injection'] === 'enabled'))
        .map(n => n.name);
      analysis = analyzeTrust({
        controlPlaneNamespace: snapshot.controlPlane.namespace,
        istiod: snapshot.trust.istiod,
        secretProviderClasses: snapshot.trust.secretProviderClasses,
        bundles: snapshot.trust.bundles.map(b => ({ namespace: b.namespace, ...this.parse(b.pem) })),
        // Unreadable ConfigMaps say nothing about which namespaces lack a bundle.
        meshedNamespaces: snapshot.trust.error ? [] : meshed,
        now: this.options.now?.() ?? new Date(),
        thresholds: this.thresholds,
      });
      this.analyses.set(snapshot, analysis);
    }
    return analysis;
  }

  async getClusterTrust(cluster: string, credentials: BackstageCredentials): Promise<ClusterTrustResponse> {
    const clusters = await this.options.snapshots.listClusters(credentials);
    if (!clusters.includes(cluster)) throw new NotFoundError(`No cluster named '${cluster}' is configured`);
    const snapshot = await this.options.snapshots.get(cluster, credentials);
    return {
      cluster,
      fetchedAt: snapshot.fetchedAt,
      thresholds: this.thresholds,
      ...this.analyze(snapshot),
      ...(snapshot.trust.error ? { error: snapshot.trust.error } : {}),
    };
  }

  private parse(pem: string | undefined): ParsedBundle {
    if (pem === undefined) return parsePemBundle(pem);
    let result = this.parsed.get(pem);
    if (!result) {
      result = parsePemBundle(pem);
      if (this.parsed.size >= PARSE_CACHE_LIMIT) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(pem, result);
    }
    return result;
  }
}
