/**
 * Validation of Kubernetes and Backstage names that arrive as user input
 * (path parameters, request bodies).
 */

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Namespace names are DNS-1123 labels (at most 63 characters). */
export function isValidNamespaceName(name: string): boolean {
  return name.length > 0 && name.length <= 63 && DNS_1123_LABEL.test(name);
}

/** Most object names (Deployments, Pods, ConfigMaps) are DNS-1123 subdomains. */
export function isValidObjectName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && DNS_1123_SUBDOMAIN.test(name);
}

/**
 * Cluster names come from `kubernetes.clusterLocatorMethods` config; we accept what a
 * config key and an HTTP header can safely carry.
 */
export function isValidClusterName(name: string): boolean {
  return /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,126}[A-Za-z0-9])?$/.test(name);
}

/** Backstage entity kind, namespace and name parts (catalog-model's default rules). */
export function isValidEntityNamePart(value: string): boolean {
  return /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(value) && value.length <= 63;
}
