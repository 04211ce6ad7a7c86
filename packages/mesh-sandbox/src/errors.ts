export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Array<{ reason: string; message: string; field: string }>;
}

/** A Kubernetes `Status` failure, thrown by the store and written as the response body. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    /** '' for errors kube-apiserver reports without a reason (e.g. plain storage errors). */
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    /** ListMeta of the Status, e.g. the inconsistent continue token of a 410 Expired. */
    readonly listMeta?: { continue?: string },
  ) {
    super(message);
  }

  toStatus() {
    // Like metav1.Status: empty strings are omitted (`omitempty`), e.g. the core group.
    const details = this.details
      ? Object.fromEntries(Object.entries(this.details).filter(([, v]) => v !== '' && v !== undefined))
      : undefined;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: { ...this.listMeta },
      status: 'Failure',
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(details && Object.keys(details).length > 0 ? { details } : {}),
      code: this.code,
    };
  }
}

/** `resource` is the plural resource name, as kube-apiserver reports it (`ingresses.networking.k8s.io`). */
export const notFound = (resource: string, group: string, name: string) =>
  new StatusError(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
