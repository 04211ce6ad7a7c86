/** A Kubernetes `Status` failure, thrown by the store and written as the response body. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason: string; message: string; field: string }> },
  ) {
    super(message);
  }

  toStatus() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const notFound = (kind: string, group: string, name: string) =>
  new StatusError(404, 'NotFound', `${kind.toLowerCase()}s${group ? `.${group}` : ''} "${name}" not found`, {
    name,
    group,
    kind: `${kind.toLowerCase()}s`,
  });

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
