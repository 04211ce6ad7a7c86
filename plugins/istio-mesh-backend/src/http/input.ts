import { InputError } from '@backstage/errors';
import {
  isValidClusterName,
  isValidEntityNamePart,
  isValidNamespaceName,
  isValidRevisionName,
} from '@mesh-portal/plugin-istio-mesh-common';
import { z } from 'zod';

/**
 * The path and body fields every route validates the same way, so a bad cluster or
 * revision name reads alike on every endpoint.
 */
export const clusterName = z.string().refine(isValidClusterName, {
  message: 'must be 1-128 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit',
});

export const namespaceName = z.string().refine(isValidNamespaceName, {
  message: 'must be a DNS-1123 label: at most 63 lower-case letters, digits or -, starting and ending with a letter or digit',
});

export const revisionName = z.string().refine(isValidRevisionName, {
  message: 'must be a revision name such as asm-1-30 or 1-27-1 (a DNS-1123 label)',
});

const entityNamePart = z.string().refine(isValidEntityNamePart, {
  message: 'must be 1-63 characters of [a-zA-Z0-9-_.], starting and ending with a letter or digit',
});

export const clusterParams = z.object({ cluster: clusterName });

export const entityParams = z.object({
  kind: entityNamePart,
  namespace: entityNamePart,
  name: entityNamePart,
});

/**
 * Validates request input against a schema; an absent body counts as `{}`. Throws an
 * InputError (400) that names every offending field: `Invalid <what>: <path>: <message>`.
 */
export function parseInput<T>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  value: unknown,
  what: string,
): T {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const details = result.error.issues
      .map(i => `${i.path.join('.') || what}: ${i.message}`)
      .join('; ');
    throw new InputError(`Invalid ${what}: ${details}`);
  }
  return result.data;
}
