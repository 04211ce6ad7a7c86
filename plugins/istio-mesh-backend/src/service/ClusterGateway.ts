import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';

/** A Kubernetes list response, as far as pagination needs it. */
interface KubeList<T> {
  items?: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

export interface ListOptions {
  labelSelector?: string;
  /** e.g. `metadata.name=istio-ca-root-cert`, to list one ConfigMap per namespace. */
  fieldSelector?: string;
  /** Page size for `limit`/`continue` pagination. */
  pageSize?: number;
  /** Called with each page as it arrives (e.g. to reduce objects before the next page). */
  onPage?: (items: any[]) => void;
  /** Keep no items (the caller consumes them in `onPage`); the result is then empty. */
  discardItems?: boolean;
}

/**
 * How a PATCH body is read: JSON merge patch (RFC 7386, `null` deletes a key) or
 * Kubernetes' strategic merge patch (merges lists by key, e.g. containers by name).
 */
export type PatchType = 'merge' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/**
 * The only door to the clusters. Every call goes through Backstage's Kubernetes backend
 * (its configured clusters and auth) on behalf of the calling user, so the mesh plugin
 * never holds cluster credentials of its own.
 */
export interface ClusterGateway {
  listClusters(credentials: BackstageCredentials): Promise<string[]>;
  /** Lists all objects at a collection path (e.g. `/api/v1/pods`), following `continue`. */
  list<T>(
    cluster: string,
    path: string,
    credentials: BackstageCredentials,
    options?: ListOptions,
  ): Promise<T[]>;
  /** Reads one object (e.g. `/api/v1/namespaces/x/configmaps/y`); 404 is a NotFoundError. */
  get<T>(cluster: string, path: string, credentials: BackstageCredentials): Promise<T>;
  /** Creates an object in a collection; an existing name is a ConflictError (409 AlreadyExists). */
  create<T>(cluster: string, collectionPath: string, body: object, credentials: BackstageCredentials): Promise<T>;
  /** Patches one object. */
  patch<T>(
    cluster: string,
    path: string,
    patch: object,
    type: PatchType,
    credentials: BackstageCredentials,
  ): Promise<T>;
  /** Deletes one object; 404 is a NotFoundError. */
  delete(cluster: string, path: string, credentials: BackstageCredentials): Promise<void>;
  /**
   * Replaces one object (PUT). With `metadata.resourceVersion` in the body the cluster
   * refuses it when the object changed meanwhile: a ConflictError (409).
   */
  replace<T>(cluster: string, path: string, body: object, credentials: BackstageCredentials): Promise<T>;
}

const DEFAULT_PAGE_SIZE = 500;
const HEADER_CLUSTER = 'Backstage-Kubernetes-Cluster';

export class KubernetesBackendClusterGateway implements ClusterGateway {
  static create(options: {
    discovery: DiscoveryService;
    auth: AuthService;
    fetch?: typeof fetch;
  }) {
    return new KubernetesBackendClusterGateway(
      options.discovery,
      options.auth,
      options.fetch ?? fetch,
    );
  }

  private constructor(
    private readonly discovery: DiscoveryService,
    private readonly auth: AuthService,
    private readonly fetchFn: typeof fetch,
  ) {}

  async listClusters(credentials: BackstageCredentials): Promise<string[]> {
    const body = await this.request<{ items: Array<{ name: string }> }>(
      '/clusters',
      credentials,
      'the Kubernetes backend',
    );
    return body.items.map(c => c.name);
  }

  async list<T>(
    cluster: string,
    path: string,
    credentials: BackstageCredentials,
    options: ListOptions = {},
  ): Promise<T[]> {
    const items: T[] = [];
    let continueToken: string | undefined;
    do {
      const query = new URLSearchParams();
      query.set('limit', String(options.pageSize ?? DEFAULT_PAGE_SIZE));
      if (options.labelSelector) query.set('labelSelector', options.labelSelector);
      if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
      if (continueToken) query.set('continue', continueToken);
      const page = await this.request<KubeList<T>>(
        `/proxy${path}?${query}`,
        credentials,
        `cluster '${cluster}'`,
        { [HEADER_CLUSTER]: cluster },
      );
      options.onPage?.(page.items ?? []);
      if (!options.discardItems) items.push(...(page.items ?? []));
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return items;
  }

  async get<T>(cluster: string, path: string, credentials: BackstageCredentials): Promise<T> {
    return this.request<T>(`/proxy${path}`, credentials, `cluster '${cluster}'`, { [HEADER_CLUSTER]: cluster });
  }

  async create<T>(cluster: string, collectionPath: string, body: object, credentials: BackstageCredentials): Promise<T> {
    return this.request<T>(
      `/proxy${collectionPath}`,
      credentials,
      `cluster '${cluster}'`,
      { [HEADER_CLUSTER]: cluster, 'Content-Type': 'application/json' },
      { method: 'POST', body: JSON.stringify(body) },
    );
  }

  async patch<T>(
    cluster: string,
    path: string,
    patch: object,
    type: PatchType,
    credentials: BackstageCredentials,
  ): Promise<T> {
    return this.request<T>(
      `/proxy${path}`,
      credentials,
      `cluster '${cluster}'`,
      { [HEADER_CLUSTER]: cluster, 'Content-Type': PATCH_CONTENT_TYPES[type] },
      { method: 'PATCH', body: JSON.stringify(patch) },
    );
  }

  async replace<T>(cluster: string, path: string, body: object, credentials: BackstageCredentials): Promise<T> {
    return this.request<T>(
      `/proxy${path}`,
      credentials,
      `cluster '${cluster}'`,
      { [HEADER_CLUSTER]: cluster, 'Content-Type': 'application/json' },
      { method: 'PUT', body: JSON.stringify(body) },
    );
  }

  async delete(cluster: string, path: string, credentials: BackstageCredentials): Promise<void> {
    await this.request<unknown>(
      `/proxy${path}`,
      credentials,
      `cluster '${cluster}'`,
      { [HEADER_CLUSTER]: cluster },
      { method: 'DELETE' },
    );
  }

  private async request<T>(
    path: string,
    credentials: BackstageCredentials,
    target: string,
    headers: Record<string, string> = {},
    init: { method?: string; body?: string } = {},
  ): Promise<T> {
    const baseUrl = await this.discovery.getBaseUrl('kubernetes');
    // A fresh token per request: it is minted on behalf of the caller and short-lived.
    const { token } = await this.auth.getPluginRequestToken({
      onBehalfOf: credentials,
      targetPluginId: 'kubernetes',
    });
    let response: Response;
    try {
      response = await this.fetchFn(`${baseUrl}${path}`, {
        ...init,
        headers: {
          // The Kubernetes backend runs in the same deployment: compressing every list page
          // for it only to be decompressed here cost ~16% of a refresh's CPU (yarn bench).
          'Accept-Encoding': 'identity',
          ...headers,
          Authorization: `Bearer ${token}`,
        },
      });
    } catch (error) {
      throw withFailure(
        new ServiceUnavailableError(`${target} is unreachable: ${(error as Error).message}`),
        { network: true },
      );
    }
    if (response.ok) {
      return (await response.json()) as T;
    }
    const message = await describeFailure(response);
    const failure: UpstreamFailure = {
      statusCode: response.status,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    };
    if (response.status === 401 || response.status === 403) {
      throw withFailure(new NotAllowedError(`${target} denied the request: ${message}`), failure);
    }
    if (response.status === 404) {
      throw withFailure(new NotFoundError(`${target}: ${message}`), failure);
    }
    if (response.status === 409) {
      throw withFailure(new ConflictError(`${target}: ${message}`), failure);
    }
    throw withFailure(
      new ServiceUnavailableError(`${target} answered ${response.status}: ${message}`),
      failure,
    );
  }
}

/** What a failed cluster call met, for callers that retry (the upgrade steps). */
export interface UpstreamFailure {
  /** The HTTP status the cluster (through the Kubernetes backend) answered. */
  statusCode?: number;
  /** `Retry-After`, when the answer carried one. */
  retryAfterMs?: number;
  /** No answer at all (connection refused or lost). */
  network?: boolean;
}

const FAILURE = Symbol('upstreamFailure');

function withFailure<E extends Error>(error: E, failure: UpstreamFailure): E {
  (error as E & { [FAILURE]?: UpstreamFailure })[FAILURE] = failure;
  return error;
}

/** The failure a gateway error carries, or undefined for errors that did not come from a cluster call. */
export function upstreamFailure(error: unknown): UpstreamFailure | undefined {
  return (error as { [FAILURE]?: UpstreamFailure } | undefined)?.[FAILURE];
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

async function describeFailure(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    // Kubernetes Status bodies carry `message`; Backstage error bodies `error.message`.
    return body?.message ?? body?.error?.message ?? response.statusText;
  } catch {
    return text.slice(0, 200) || response.statusText;
  }
}
