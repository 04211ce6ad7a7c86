import http from 'node:http';
import { clockOf } from './clock';
import { RunningControllers, startControllers } from './controllers';
import { admitPod } from './istio/injection';
import { ResourceType } from './resources';
import type { SandboxCluster } from './server';
import { KubeObject } from './store';
import { serveWatch } from './watch';

/**
 * What runs while a server serves its clusters: their controllers, the open watch
 * streams and mutating admission. The server creates one at start and closes it on close().
 */
export interface RuntimeOptions {
  /** Run the workload controllers (Deployments, ReplicaSets, pods...). Default true. */
  controllers?: boolean;
  /** Interval of BOOKMARK events on watches that allow them, in ms of the cluster's clock. Default 60000. */
  watchBookmarkIntervalMs?: number;
}

export interface ClusterRuntime {
  watch(res: http.ServerResponse, cluster: SandboxCluster, type: ResourceType, namespace: string | undefined, params: URLSearchParams): void;
  /** Mutating admission of an object created through the API (sidecar injection for pods). */
  admit(cluster: SandboxCluster, type: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject;
  close(): void;
}

export function startClusterRuntime(clusters: Map<string, SandboxCluster>, options: RuntimeOptions = {}): ClusterRuntime {
  const controllers: RunningControllers[] = [];
  if (options.controllers !== false) for (const cluster of clusters.values()) controllers.push(startControllers(cluster));
  const watches = new Set<() => void>();
  return {
    watch(res, cluster, type, namespace, params) {
      serveWatch(res, {
        store: cluster.store,
        type,
        namespace,
        params,
        clock: clockOf(cluster),
        bookmarkIntervalMs: options.watchBookmarkIntervalMs ?? 60_000,
        track: end => {
          watches.add(end);
          return () => watches.delete(end);
        },
      });
    },
    admit(cluster, type, namespace, body) {
      if (type.kind === 'Pod' && namespace) return admitPod(cluster.store, namespace, body);
      return body;
    },
    close() {
      for (const end of [...watches]) end();
      for (const c of controllers) c.stop();
      for (const cluster of clusters.values()) cluster.clock?.dispose();
    },
  };
}
