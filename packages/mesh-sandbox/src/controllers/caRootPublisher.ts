import { installedRevisions, layoutOf } from '../istio/install';
import { CA_ROOT_CONFIGMAP, CA_ROOT_KEY, setCaRootBundle } from '../istio/trust';
import { resourceTypeOfKind } from '../resources';
import { ClusterStore, StoreEvent } from '../store';

const T = { Namespace: resourceTypeOfKind('Namespace'), ConfigMap: resourceTypeOfKind('ConfigMap') };

/**
 * Namespaces istiod's namespace controller never writes to (Istio's
 * `inject.IgnoredNamespaces`).
 */
export const CA_ROOT_IGNORED_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage']);

/**
 * istiod's namespace controller: while a control plane runs, every namespace gets
 * `istio-ca-root-cert`, and a deleted one comes back. The bundle is the one istiod holds,
 * which the sandbox keeps in the control-plane namespace's copy (the fleet seeds it, a CA
 * rotation updates it). Existing copies are left as they are, so a namespace the fleet
 * seeds with a stale bundle (aks-prod's `storefront` mid-rotation) stays stale.
 */
export class CaRootPublisher {
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(private readonly store: ClusterStore) {
    this.unsubscribe = store.subscribe(e => this.onEvent(e));
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  private onEvent(e: StoreEvent): void {
    if (e.resource.plural === T.Namespace.plural && e.type === 'ADDED') {
      this.publish(e.object.metadata.name);
    } else if (e.resource.plural === T.ConfigMap.plural && e.type === 'DELETED' && e.object.metadata.name === CA_ROOT_CONFIGMAP) {
      // After the write that deleted it: when that write deletes its namespace (which
      // empties the namespace first), the namespace is gone by then and nothing returns.
      const namespace = e.object.metadata.namespace!;
      queueMicrotask(() => {
        if (!this.stopped) this.publish(namespace);
      });
    }
  }

  private publish(namespace: string): void {
    if (CA_ROOT_IGNORED_NAMESPACES.has(namespace)) return;
    if (!this.store.peek(T.Namespace, undefined, namespace)) return;
    if (this.store.peek(T.ConfigMap, namespace, CA_ROOT_CONFIGMAP)) return;
    const layout = layoutOf(this.store);
    if (installedRevisions(this.store, layout).length === 0) return;
    const bundle = this.store.peek(T.ConfigMap, layout.controlPlaneNamespace, CA_ROOT_CONFIGMAP)?.data?.[CA_ROOT_KEY];
    if (typeof bundle !== 'string' || !bundle) return;
    setCaRootBundle(this.store, namespace, [{ pem: bundle }]);
  }
}
