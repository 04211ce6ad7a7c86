export interface Config {
  /** Configuration of the Istio mesh plugins. */
  istioMesh?: {
    cache?: {
      /**
       * How long a cluster's snapshot (namespaces, pods, workloads, control planes) is
       * served before the next read refreshes it. Default 15.
       */
      ttlSeconds?: number;
    };
  };
}
