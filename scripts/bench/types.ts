/** Shapes shared by bench.ts and the sandbox process. */

export interface RequestCounts {
  /** Kubernetes API requests (paths under /clusters/<name>/api or /apis). */
  total: number;
  /** Requests without a `continue` token (first pages: one per LIST call). */
  pages: number;
  /** Requests with a `continue` token (further pages of a LIST). */
  continuations: number;
  byCluster: Record<string, number>;
  byResource: Record<string, { requests: number; continuations: number }>;
  /** Requests naming one object (GET of a pod, ...): a per-object cost. */
  perObject: number;
  /** Anything else (discovery, /version, ARM). */
  other: number;
}

export interface SandboxInfo {
  fleet: string;
  url: string;
  pid: number;
  buildMs: number;
  clusters: Array<{ name: string; token: string; url: string }>;
  /** The sandbox's ARM (over TLS) and the clusters it serves as AKS managed clusters. */
  arm?: {
    endpoint: string;
    caFile: string;
    subscriptionId: string;
    resourceGroup: string;
    clusters: string[];
  };
  pods: number;
  objects: number;
  /** Distinct `backstage.io/kubernetes-id` labels, most pods first. */
  kubernetesIds: Array<{ id: string; pods: number; clusters: number }>;
}
