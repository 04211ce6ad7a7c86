import { BackendFeature } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import kubernetesBackendPlugin from '@backstage/plugin-kubernetes-backend';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  ArmOptions,
  createDemoFleet,
  DemoFleetOptions,
  demoToken,
  SandboxServer,
  startSandboxServer,
} from '@mesh-portal/mesh-sandbox';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { istioMeshPlugin } from '../plugin';

/*
 * The setup the plugin's integration suites share: the demo sandbox, the root config that
 * points the plugin and the real Kubernetes backend at it, and a test backend with both.
 * What a suite tunes (upgrades, metrics or trust settings, clocks, permissions, audit)
 * stays at its call site.
 */

/** Every cluster of the demo fleet, in the order the Kubernetes backend lists them. */
export const DEMO_CLUSTERS = ['aks-dev', 'aks-prod', 'istio-lab'];
/** The demo clusters that are AKS managed clusters (served by the sandbox's ARM). */
export const DEMO_AKS_CLUSTERS = ['aks-dev', 'aks-prod'];

export interface SandboxWithArm {
  sandbox: SandboxServer;
  /** A file holding the sandbox's self-signed CA, for the AKS provider to trust. */
  caFile: string;
}

/** The demo sandbox over HTTPS (the Azure SDK speaks only HTTPS to ARM) and its CA in a temp file. */
export async function startSandboxWithArm(
  options: { fleet?: DemoFleetOptions; arm?: ArmOptions } = {},
): Promise<SandboxWithArm> {
  const sandbox = await startSandboxServer({
    clusters: createDemoFleet(options.fleet),
    https: true,
    ...(options.arm ? { arm: options.arm } : {}),
  });
  const caFile = join(mkdtempSync(join(tmpdir(), 'mesh-sandbox-ca-')), 'ca.pem');
  writeFileSync(caFile, sandbox.https!.caCertPem);
  return { sandbox, caFile };
}

/** `istioMesh.aks`: the sandbox's ARM endpoint with a static token, for the given managed clusters. */
export function aksConfigFor(sandbox: SandboxServer, caFile: string, clusters: string[] = DEMO_AKS_CLUSTERS) {
  return {
    endpoint: sandbox.https!.url,
    caFile,
    credential: { staticToken: 'test-arm-token' },
    clusters: clusters.map(name => ({
      name,
      subscriptionId: '00000000-0000-0000-0000-000000000000',
      resourceGroup: 'mesh-portal-demo',
    })),
  };
}

/**
 * `kubernetes`: one config cluster per named sandbox cluster, with its service-account
 * token, then `extraClusters` as given (clusters a test breaks on purpose).
 */
export function kubernetesConfigFor(
  sandbox: SandboxServer,
  options: { clusters?: string[]; extraClusters?: object[] } = {},
) {
  return {
    serviceLocatorMethod: { type: 'multiTenant' },
    clusterLocatorMethods: [
      {
        type: 'config',
        clusters: [
          ...(options.clusters ?? DEMO_CLUSTERS).map(name => ({
            name,
            url: sandbox.clusterUrl(name),
            authProvider: 'serviceAccount',
            serviceAccountToken: demoToken(name),
            skipMetricsLookup: true,
          })),
          ...(options.extraClusters ?? []),
        ],
      },
    ],
  };
}

/** A permission service answering `result` to every request; none (the mock's allow-all) without one. */
export function permissionResult(result?: AuthorizeResult.ALLOW | AuthorizeResult.DENY): BackendFeature[] {
  return result ? [mockServices.permissions.factory({ result })] : [];
}

export interface AuditRecord {
  eventId: string;
  severityLevel?: string;
  meta?: Record<string, unknown>;
  outcome?: 'success' | 'fail';
  successMeta?: Record<string, unknown>;
  error?: string;
}

/**
 * An auditor that appends the events `keep` accepts to `audit`, with their outcome. The
 * Kubernetes backend audits its proxy calls with the same auditor: `keep` drops those.
 */
export function recordingAuditor(keep: (eventId: string) => boolean, audit: AuditRecord[] = []) {
  const auditor = mockServices.auditor.mock({
    createEvent: async opts => {
      const record: AuditRecord = { eventId: opts.eventId, severityLevel: opts.severityLevel, meta: opts.meta };
      if (keep(opts.eventId)) audit.push(record);
      return {
        success: async o => {
          record.outcome = 'success';
          record.successMeta = o?.meta;
        },
        fail: async o => {
          record.outcome = 'fail';
          record.error = o.error.message;
        },
      };
    },
  });
  return { audit, factory: auditor.factory };
}

/** A catalog Component in the default namespace; its annotations say where it runs. */
export function component(name: string, annotations: Record<string, string>, owner = 'team-payments'): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: { type: 'service', owner, lifecycle: 'production' },
  };
}

/** The istio-mesh and Kubernetes backend plugins over a mocked catalog, with `config` as the root config. */
export function startMeshBackend(options: {
  config: NonNullable<Parameters<typeof mockServices.rootConfig.factory>[0]>['data'];
  entities?: Entity[];
  /** Further service factories: database, auditor, permissions. */
  features?: BackendFeature[];
}) {
  return startTestBackend({
    features: [
      istioMeshPlugin,
      kubernetesBackendPlugin,
      catalogServiceMock.factory({ entities: options.entities ?? [] }),
      mockServices.rootConfig.factory({ data: options.config }),
      ...(options.features ?? []),
    ],
  });
}
