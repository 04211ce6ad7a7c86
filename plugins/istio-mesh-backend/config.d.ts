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
    /** The mesh's certificates (see docs/trust-and-gateways.md). */
    trust?: {
      /** Warn when a root or intermediate certificate has fewer days left. Default 30. */
      warningDays?: number;
      /** Critical (cluster health too) when it has fewer days left, or is expired. Default 7; at most warningDays. */
      criticalDays?: number;
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
      /**
       * After a namespace migrates (clusters with metrics only): compare its workloads' 5xx
       * ratio and p99 in a window after the rollout with the same window before the restart.
       */
      healthGate?: {
        /** Default true (when the cluster has metrics). */
        enabled?: boolean;
        /** Length of each window. Default 300. */
        windowSeconds?: number;
        /** How long after the window metrics may stay unavailable before the verdict is no-data. Default 300. */
        graceSeconds?: number;
        thresholds?: {
          /** Regressed when the 5xx ratio rises by more (absolute, 0.01 = 1 point). Default 0.01. */
          maxErrorRatioIncrease?: number;
          /** Regressed when the 5xx ratio reaches this while it was below. Default 0.1. */
          failingErrorRatio?: number;
          /** Regressed when p99 rises by more than this share (0.5 = +50 %)… Default 0.5. */
          maxP99IncreaseRatio?: number;
          /** …and by more than this many ms. Default 10. */
          minP99IncreaseMs?: number;
        };
      };
      /** Retries of a step's cluster calls after 409 (idempotent patches), 429, 5xx and timeouts. */
      retries?: {
        /** Attempts per call, the first included. Default 5. */
        attempts?: number;
        /** Backoff before the second attempt, doubled for each further one, full jitter. Default 200. */
        baseDelayMs?: number;
        /** Upper bound of one backoff. Default 3000. */
        maxDelayMs?: number;
        /** A longer `Retry-After` fails the call rather than holding the step. Default 10. */
        maxRetryAfterSeconds?: number;
        /** An attempt without an answer by then is retried. Default 30. */
        attemptTimeoutSeconds?: number;
      };
    };
    /** Golden signals from Istio's standard metrics through Prometheus (see docs/metrics.md). */
    metrics?: {
      /** Rate window of the current signals (overview, entity, health badges). Default 300. */
      rateIntervalSeconds?: number;
      /** Rate window of each chart point; at least the step. Default 60. */
      seriesRateIntervalSeconds?: number;
      /** Points per series at most; the step grows with the window. Default 300. */
      maxPointsPerSeries?: number;
      /** Smallest step of a series. Default 10. */
      minStepSeconds?: number;
      /** Per-query timeout (sent to Prometheus as `timeout`). Default 10. */
      queryTimeoutSeconds?: number;
      /** The overview waits at most this long for a cluster's signals, then shows it as unavailable. Default 3. */
      overviewTimeoutSeconds?: number;
      /** How long a replica reuses a cluster's overview signals for every reader (0: never). Default 15. */
      overviewCacheSeconds?: number;
      /** When signals count as degraded / failing (ratios 0..1). Defaults: 5xx > 0 degraded, >= 0.1 failing, no latency rule. */
      thresholds?: {
        degradedErrorRatio?: number;
        failingErrorRatio?: number;
        degradedP99Ms?: number;
        failingP99Ms?: number;
      };
      /** The Prometheus of each cluster (names as under `kubernetes:`); several clusters may share one. */
      clusters?: Array<{
        name: string;
        prometheus: {
          /** Base URL of the Prometheus HTTP API (or Azure Monitor workspace's query endpoint). */
          url: string;
          /** Label matchers selecting this cluster's series. Default `{ cluster: <name> }`; `{}` for a Prometheus of its own. */
          matchers?: { [label: string]: string };
          /** The label with the pod's name on the proxies' series. Default `pod`. */
          podLabel?: string;
          /**
           * A static bearer token.
           * @visibility secret
           */
          bearerToken?: string;
          /**
           * Extra request headers (e.g. a tenant id for Mimir).
           * @visibility secret
           */
          headers?: { [name: string]: string };
          /** Azure Monitor managed Prometheus: Entra ID tokens from DefaultAzureCredential. Default false. */
          azureMonitor?: boolean;
          /** Token scope for azureMonitor. Default `https://prometheus.monitor.azure.com/.default`. */
          azureScope?: string;
          /** Overrides queryTimeoutSeconds for this cluster. */
          timeoutSeconds?: number;
        };
      }>;
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
