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
    /** Canary upgrades (see docs/upgrades.md). */
    upgrades?: {
      /**
       * How often one replica looks for unfinished upgrade steps whose replica stopped,
       * and resumes them. Default 30.
       */
      resumeIntervalSeconds?: number;
      /** Pause between two passes of a running step (ARM operation, rollouts). Default 2000. */
      pollIntervalMs?: number;
      /** How long a replica's claim on a running step lasts without renewal. Default 30. */
      leaseSeconds?: number;
      /** How long a request waits for another action on the same cluster before answering 409. Default 5000. */
      lockWaitMs?: number;
      /** How long a cluster lock lasts when its holder dies before releasing it. Default 120. */
      lockLeaseSeconds?: number;
      /** A namespace migration fails when its rollouts take longer. Default 900. */
      rolloutTimeoutSeconds?: number;
      /** Start, complete and rollback fail when the control plane takes longer. Default 2700. */
      controlPlaneTimeoutSeconds?: number;
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
