/** An Azure Resource Manager error: HTTP status and the `{ error: { code, message } }` body. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody() {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The prefix AKS puts before the reason a change of `serviceMeshProfile.istio.revisions` is refused. */
const REVISIONS_NOT_ALLOWED = 'Requested change in revisions is not allowed. Reason:';

export const revisionChangeRefused = (reason: string) => new ArmError(400, 'BadRequest', `${REVISIONS_NOT_ALLOWED} ${reason}`);

export const armErrors = {
  missingAuthorization: () =>
    new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
      'WWW-Authenticate':
        'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of missing \'Authorization\' header."',
    }),
  invalidAuthorization: () =>
    new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.", {
      'WWW-Authenticate':
        'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", error_description="The authentication failed because of invalid \'Authorization\' header."',
    }),
  missingApiVersion: () =>
    new ArmError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.'),
  subscriptionNotFound: (sub: string) => new ArmError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`),
  resourceGroupNotFound: (rg: string) => new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`),
  resourceNotFound: (type: string, name: string, rg: string) =>
    new ArmError(
      404,
      'ResourceNotFound',
      `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    ),
  notFound: (what: string) => new ArmError(404, 'NotFound', `${what} was not found.`),
  noRoute: (path: string) =>
    new ArmError(404, 'InvalidResourceType', `The resource type could not be found in the namespace 'Microsoft.ContainerService' for the path '${path}'.`),
  methodNotAllowed: (method: string) => new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`),
  badBody: (detail: string) => new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${detail}'.`),
  operationInProgress: (operationId: string, startTime: string) =>
    new ArmError(
      409,
      'OperationNotAllowed',
      `Operation is not allowed because there's an in progress update managed cluster operation with ID '${operationId}' started at ${startTime}. Please wait for it to finish and try again.`,
    ),
  /** Step 1 of the canary upgrade fails while one is running (`az aks mesh get-upgrades`). */
  meshUpgradeInProgress: (from: string, to: string) =>
    new ArmError(
      400,
      'BadRequest',
      `Mesh upgrade is in progress. Please complete or roll back the current upgrade from ${from} to ${to} first.`,
    ),
};
