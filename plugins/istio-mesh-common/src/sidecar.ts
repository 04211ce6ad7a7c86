import {
  isValidRevisionName,
  proxyVersionFromImage,
  revisionFromCaAddress,
} from './revision';

/** Labels and annotations the Istio data plane reads or writes. */
export const ISTIO_LABELS = {
  revision: 'istio.io/rev',
  injection: 'istio-injection',
  tag: 'istio.io/tag',
  podInject: 'sidecar.istio.io/inject',
  sidecarStatus: 'sidecar.istio.io/status',
} as const;

export const ISTIO_PROXY_CONTAINER = 'istio-proxy';

/** The parts of a Pod that sidecar detection reads; structurally a subset of V1Pod. */
export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: ContainerLike[];
    initContainers?: ContainerLike[];
  };
}

export interface ContainerLike {
  name: string;
  image?: string;
  restartPolicy?: string;
  env?: Array<{ name: string; value?: string }>;
}

/** What a pod's sidecar is, as far as its own spec and metadata tell. */
export interface SidecarInfo {
  injected: boolean;
  /** The control-plane revision the proxy was injected by and connects to. */
  revision?: string;
  /** Where the revision was read, for explaining a verdict. */
  revisionSource?: 'status-annotation' | 'pod-label' | 'ca-address';
  proxyVersion?: string;
  /** `istio-proxy` runs as a native sidecar (an init container with restartPolicy Always). */
  native: boolean;
  /** The pod asked not to be injected (`sidecar.istio.io/inject=false`). */
  optedOut: boolean;
}

function findProxy(pod: PodLike): { container?: ContainerLike; native: boolean } {
  const native = pod.spec?.initContainers?.find(
    c => c.name === ISTIO_PROXY_CONTAINER,
  );
  if (native) return { container: native, native: true };
  const classic = pod.spec?.containers?.find(c => c.name === ISTIO_PROXY_CONTAINER);
  return { container: classic, native: false };
}

function revisionFromStatusAnnotation(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const status = JSON.parse(value);
    const revision = status?.revision;
    return typeof revision === 'string' && isValidRevisionName(revision)
      ? revision
      : undefined;
  } catch {
    // A hand-edited or truncated annotation must not break the whole pod list.
    return undefined;
  }
}

/**
 * Reads a pod's sidecar. The injector's status annotation is the most direct record of
 * which revision injected the pod; the pod label and the proxy's CA address are
 * fallbacks for older injectors that did not write `revision` into the annotation.
 */
export function sidecarOf(pod: PodLike): SidecarInfo {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const { container, native } = findProxy(pod);
  const optedOut =
    labels[ISTIO_LABELS.podInject] === 'false' ||
    annotations[ISTIO_LABELS.podInject] === 'false';
  if (!container) {
    return { injected: false, native: false, optedOut };
  }
  let revision: string | undefined;
  let revisionSource: SidecarInfo['revisionSource'];
  const fromStatus = revisionFromStatusAnnotation(annotations[ISTIO_LABELS.sidecarStatus]);
  const fromLabel = labels[ISTIO_LABELS.revision];
  const fromCa = revisionFromCaAddress(
    container.env?.find(e => e.name === 'CA_ADDR')?.value,
  );
  if (fromStatus) {
    revision = fromStatus;
    revisionSource = 'status-annotation';
  } else if (fromLabel && isValidRevisionName(fromLabel)) {
    revision = fromLabel;
    revisionSource = 'pod-label';
  } else if (fromCa) {
    revision = fromCa;
    revisionSource = 'ca-address';
  }
  return {
    injected: true,
    revision,
    revisionSource,
    proxyVersion: proxyVersionFromImage(container.image),
    native,
    optedOut,
  };
}
