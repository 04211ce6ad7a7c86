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
    /**
     * AKS clusters with the Istio add-on, reached through Azure Resource Manager for
     * upgrade information and control-plane changes. Names match `kubernetes:` clusters.
     */
    aks?: {
      /** ARM endpoint; defaults to the Azure public cloud. The demo points it at the sandbox. */
      endpoint?: string;
      /** A PEM file with an extra CA to trust for the ARM endpoint. */
      caFile?: string;
      credential?: {
        /**
         * A fixed bearer token instead of DefaultAzureCredential (environment, workload
         * identity, managed identity, Azure CLI).
         * @visibility secret
         */
        staticToken?: string;
      };
      clusters?: Array<{
        /** The cluster's name under `kubernetes.clusterLocatorMethods`. */
        name: string;
        subscriptionId: string;
        resourceGroup: string;
        /** The managed cluster's name in Azure; defaults to `name`. */
        resourceName?: string;
      }>;
    };
  };
}
