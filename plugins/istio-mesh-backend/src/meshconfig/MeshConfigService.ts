import { BackstageCredentials, LoggerService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type { V1ConfigMap } from '@kubernetes/client-node';
import {
  checkMeshConfigDocument,
  describeErrors,
  describeFinding,
  diffMeshConfig,
  ISTIO_LABELS,
  meshConfigPolicyFor,
  MeshConfigDocument,
  MeshConfigFinding,
  MeshConfigPolicy,
  MeshConfigUpdateRequest,
  MeshConfigUpdateResponse,
  MeshConfigValidation,
  MeshConfigView,
  MeshProvider,
  mergeMeshConfig,
  parseMeshConfigYaml,
  stringifyMeshConfig,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ClusterGateway, upstreamFailure } from '../service/ClusterGateway';
import { ClusterSnapshots } from '../service/ClusterSnapshots';

/** Users' MeshConfig of a revision on AKS (istiod merges it under the add-on's). */
export const sharedConfigMapName = (revision: string) => `istio-shared-configmap-${revision}`;
/** The add-on's (upstream: the installer's) MeshConfig of a revision. */
export const defaultConfigMapName = (revision: string) => `istio-${revision}`;
const MESH_KEY = 'mesh';
const COPIED_FROM = 'istio-mesh.backstage.io/copied-from';
const EDITED_BY = 'istio-mesh.backstage.io/last-edited-by';
export const CONFLICT_MESSAGE = 'the ConfigMap changed since you loaded it';

/** The add-on's own document is trusted more than typed input, but still bounded. */
const DEFAULT_DOCUMENT_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64 };

/**
 * The shared MeshConfig of a cluster's revisions: read it with the add-on's default and
 * the effective merge, validate edits under the revision's policy, save with optimistic
 * concurrency, and copy it to a new revision for a canary upgrade. All cluster access
 * goes through the ClusterGateway, with the caller's credentials.
 */
export interface MeshConfigService {
  get(cluster: string, revision: string, credentials: BackstageCredentials): Promise<MeshConfigView>;
  validate(cluster: string, revision: string, yaml: string, credentials: BackstageCredentials): Promise<MeshConfigValidation>;
  /** Validates, then writes; nothing is written when validation fails (InputError with the findings). */
  update(cluster: string, request: MeshConfigUpdateRequest, credentials: BackstageCredentials): Promise<MeshConfigUpdateResponse>;
}

/** What the canary-upgrade start needs (see docs/upgrades.md and docs/meshconfig.md). */
export interface SharedMeshConfigCopier {
  /**
   * Refuses (ConflictError with the findings) when `from`'s shared document would be
   * rejected under `to`'s policy and would be copied. Reads only.
   */
  checkCopy(cluster: string, from: string, to: string, credentials: BackstageCredentials): Promise<void>;
  /** Copies `from`'s shared document to `to` (kept when `to`'s exists); says what it did. */
  copy(cluster: string, from: string, to: string, credentials: BackstageCredentials): Promise<string>;
}

interface ClusterContext {
  namespace: string;
  provider: MeshProvider;
  installed: string[];
}

interface LoadedDocument {
  doc: MeshConfigDocument;
  object?: V1ConfigMap;
}


export class DefaultMeshConfigService implements MeshConfigService, SharedMeshConfigCopier {
  constructor(
    private readonly options: {
      gateway: ClusterGateway;
      snapshots: ClusterSnapshots;
      logger: LoggerService;
      /** The classification of a revision (default: the data in -common). */
      policyFor?: (revision: string) => MeshConfigPolicy;
    },
  ) {}

  private policyFor(revision: string): MeshConfigPolicy {
    return (this.options.policyFor ?? meshConfigPolicyFor)(revision);
  }

  async get(cluster: string, revision: string, credentials: BackstageCredentials): Promise<MeshConfigView> {
    const ctx = await this.context(cluster, credentials);
    this.requireInstalled(cluster, revision, ctx);
    const [shared, addonDefault] = await Promise.all([
      ctx.provider === 'aks' ? this.load(cluster, ctx.namespace, sharedConfigMapName(revision), credentials) : undefined,
      this.load(cluster, ctx.namespace, defaultConfigMapName(revision), credentials),
    ]);
    const defaultValue = this.parseDefault(cluster, addonDefault.doc);
    const policy = ctx.provider === 'aks' ? this.policyFor(revision) : undefined;
    let sharedValue: Record<string, unknown> = {};
    let findings: MeshConfigFinding[] = [];
    if (shared && policy) {
      const checked = checkMeshConfigDocument(shared.doc.yaml, policy);
      findings = checked.findings;
      sharedValue = checked.value ?? {};
    }
    const merged = mergeMeshConfig(defaultValue, sharedValue, policy);
    const sharedDoc = shared?.doc ?? { configMap: sharedConfigMapName(revision), namespace: ctx.namespace, exists: false, yaml: '' };
    return {
      cluster,
      revision,
      provider: ctx.provider,
      editable: ctx.provider === 'aks',
      ...(ctx.provider === 'aks'
        ? {}
        : {
            readOnlyReason: `${cluster} runs upstream Istio: its mesh config (${defaultConfigMapName(revision)} in ${ctx.namespace}) belongs to helm or istioctl, which would overwrite edits made here.`,
          }),
      shared: { ...sharedDoc, findings },
      addonDefault: addonDefault.doc,
      effective: { yaml: stringifyMeshConfig(merged.effective), fields: merged.fields },
      overridden: merged.overridden,
    };
  }

  async validate(cluster: string, revision: string, yaml: string, credentials: BackstageCredentials): Promise<MeshConfigValidation> {
    const ctx = await this.editableContext(cluster, revision, credentials);
    const checked = checkMeshConfigDocument(yaml, this.policyFor(revision));
    if (!checked.value) return { valid: false, findings: checked.findings };
    const [shared, addonDefault] = await Promise.all([
      this.load(cluster, ctx.namespace, sharedConfigMapName(revision), credentials),
      this.load(cluster, ctx.namespace, defaultConfigMapName(revision), credentials),
    ]);
    const before = parseMeshConfigYaml(shared.doc.yaml).value ?? {};
    return {
      valid: checked.valid,
      findings: checked.findings,
      diff: diffMeshConfig(before, checked.value),
      overridden: mergeMeshConfig(this.parseDefault(cluster, addonDefault.doc), checked.value).overridden,
    };
  }

  async update(cluster: string, request: MeshConfigUpdateRequest, credentials: BackstageCredentials): Promise<MeshConfigUpdateResponse> {
    const { revision, yaml } = request;
    const ctx = await this.editableContext(cluster, revision, credentials);
    const checked = checkMeshConfigDocument(yaml, this.policyFor(revision));
    if (!checked.valid || !checked.value) {
      throw new InputError(
        `The MeshConfig for ${revision} is invalid, nothing was written: ${describeErrors(checked.findings)}`,
      );
    }
    const name = sharedConfigMapName(revision);
    const path = `/api/v1/namespaces/${ctx.namespace}/configmaps/${name}`;
    const current = await this.load(cluster, ctx.namespace, name, credentials);
    const expected = request.resourceVersion || undefined;
    const actor = actorOf(credentials);
    const conflict = (detail: string) =>
      new ConflictError(`${CONFLICT_MESSAGE}: ${detail}. Reload it and apply your change again.`);

    if (expected) {
      if (!current.object) throw conflict(`${name} was deleted`);
      // No comparison here: the cluster compares the resourceVersion atomically with the write.
      const object = current.object;
      try {
        await this.options.gateway.replace(
          cluster,
          path,
          {
            ...object,
            metadata: {
              ...object.metadata,
              // The cluster compares it atomically: a write in between gets 409.
              resourceVersion: expected,
              annotations: { ...object.metadata?.annotations, [EDITED_BY]: actor },
            },
            data: { ...object.data, [MESH_KEY]: yaml },
          },
          credentials,
        );
      } catch (error) {
        if ((error as Error).name === 'ConflictError') {
          throw conflict(
            current.doc.resourceVersion !== expected
              ? `${name} is at resourceVersion ${current.doc.resourceVersion}, you loaded ${expected}`
              : `${name} was modified while saving`,
          );
        }
        throw refusedByCluster(error, cluster, revision);
      }
    } else {
      if (current.object) {
        throw conflict(`${name} exists now (resourceVersion ${current.doc.resourceVersion}) but did not when you loaded it`);
      }
      try {
        await this.options.gateway.create(
          cluster,
          `/api/v1/namespaces/${ctx.namespace}/configmaps`,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name, namespace: ctx.namespace, annotations: { [EDITED_BY]: actor } },
            data: { [MESH_KEY]: yaml },
          },
          credentials,
        );
      } catch (error) {
        if ((error as Error).name === 'ConflictError') throw conflict(`${name} was created by someone else meanwhile`);
        throw refusedByCluster(error, cluster, revision);
      }
    }
    const before = parseMeshConfigYaml(current.doc.yaml).value ?? {};
    return { diff: diffMeshConfig(before, checked.value), view: await this.get(cluster, revision, credentials) };
  }

  // --- canary upgrade ---

  async checkCopy(cluster: string, from: string, to: string, credentials: BackstageCredentials): Promise<void> {
    await this.planCopy(cluster, from, to, credentials);
  }

  async copy(cluster: string, from: string, to: string, credentials: BackstageCredentials): Promise<string> {
    const plan = await this.planCopy(cluster, from, to, credentials);
    if (plan.kind !== 'copy') return plan.message;
    const source = plan.source;
    const labels = { ...source.metadata?.labels };
    if (labels[ISTIO_LABELS.revision] === from) labels[ISTIO_LABELS.revision] = to;
    const annotations = { ...source.metadata?.annotations };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    annotations[COPIED_FROM] = sharedConfigMapName(from);
    try {
      await this.options.gateway.create(
        cluster,
        `/api/v1/namespaces/${plan.namespace}/configmaps`,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: sharedConfigMapName(to), namespace: plan.namespace, labels, annotations },
          ...(source.data ? { data: source.data } : {}),
          ...(source.binaryData ? { binaryData: source.binaryData } : {}),
        },
        credentials,
      );
      return `copied ${sharedConfigMapName(from)} to ${sharedConfigMapName(to)}`;
    } catch (error) {
      if ((error as Error).name === 'ConflictError') return `${sharedConfigMapName(to)} exists already and was kept`;
      throw error;
    }
  }

  private async planCopy(
    cluster: string,
    from: string,
    to: string,
    credentials: BackstageCredentials,
  ): Promise<{ kind: 'skip'; message: string } | { kind: 'copy'; source: V1ConfigMap; namespace: string }> {
    const ctx = await this.context(cluster, credentials);
    const [source, target] = await Promise.all([
      this.load(cluster, ctx.namespace, sharedConfigMapName(from), credentials),
      this.load(cluster, ctx.namespace, sharedConfigMapName(to), credentials),
    ]);
    if (!source.object) return { kind: 'skip', message: `none (${sharedConfigMapName(from)} does not exist)` };
    if (target.object) return { kind: 'skip', message: `${sharedConfigMapName(to)} exists already and was kept` };
    if (ctx.provider === 'aks') {
      const checked = checkMeshConfigDocument(source.doc.yaml, this.policyFor(to));
      if (!checked.valid) {
        throw new ConflictError(
          `${sharedConfigMapName(from)} cannot be copied to ${to}: the add-on would reject it there (${describeErrors(checked.findings)}). Fix the shared MeshConfig of ${from} first; nothing was changed.`,
        );
      }
    }
    return { kind: 'copy', source: source.object, namespace: ctx.namespace };
  }

  // --- helpers ---

  private async context(cluster: string, credentials: BackstageCredentials): Promise<ClusterContext> {
    const clusters = await this.options.snapshots.listClusters(credentials);
    if (!clusters.includes(cluster)) throw new NotFoundError(`No cluster named '${cluster}' is configured`);
    // The installed revisions change only with upgrades, whose writes invalidate the snapshot.
    const snapshot = await this.options.snapshots.get(cluster, credentials);
    return {
      namespace: snapshot.controlPlane.namespace,
      provider: snapshot.provider,
      installed: snapshot.controlPlane.revisions.map(r => r.revision),
    };
  }

  private requireInstalled(cluster: string, revision: string, ctx: ClusterContext) {
    if (!ctx.installed.includes(revision)) {
      throw new NotFoundError(
        `Revision ${revision} is not installed on ${cluster} (installed: ${ctx.installed.join(', ') || 'none'})`,
      );
    }
  }

  private async editableContext(cluster: string, revision: string, credentials: BackstageCredentials): Promise<ClusterContext> {
    const ctx = await this.context(cluster, credentials);
    this.requireInstalled(cluster, revision, ctx);
    if (ctx.provider !== 'aks') {
      throw new ConflictError(
        `${cluster} runs upstream Istio: its mesh config (${defaultConfigMapName(revision)} in ${ctx.namespace}) belongs to helm or istioctl, so the portal does not edit it.`,
      );
    }
    return ctx;
  }

  private async load(cluster: string, namespace: string, name: string, credentials: BackstageCredentials): Promise<LoadedDocument> {
    try {
      const object = await this.options.gateway.get<V1ConfigMap>(
        cluster,
        `/api/v1/namespaces/${namespace}/configmaps/${name}`,
        credentials,
      );
      return {
        object,
        doc: {
          configMap: name,
          namespace,
          exists: true,
          yaml: object.data?.[MESH_KEY] ?? '',
          ...(object.metadata?.resourceVersion ? { resourceVersion: object.metadata.resourceVersion } : {}),
        },
      };
    } catch (error) {
      if (error instanceof NotFoundError) return { doc: { configMap: name, namespace, exists: false, yaml: '' } };
      throw error;
    }
  }

  private parseDefault(cluster: string, doc: MeshConfigDocument): Record<string, unknown> {
    const parsed = parseMeshConfigYaml(doc.yaml, DEFAULT_DOCUMENT_LIMITS);
    if (!parsed.value) {
      this.options.logger.warn(
        `${doc.configMap} in ${cluster} does not parse (${parsed.errors.map(describeFinding).join('; ')}); the effective view leaves it out`,
      );
    }
    return parsed.value ?? {};
  }
}

/**
 * A write the cluster answered 400 or 422 (the add-on's admission webhook, whose table may
 * be newer than ours, or the API server's own validation) refused the document itself:
 * the caller's input (400), not an unavailable cluster (the gateway's 503).
 */
function refusedByCluster(error: unknown, cluster: string, revision: string): unknown {
  const status = upstreamFailure(error)?.statusCode;
  if (status !== 400 && status !== 422) return error;
  return new InputError(
    `${cluster} refused the MeshConfig for ${revision}, nothing was written: ${(error as Error).message}`,
  );
}

function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  if (principal.type === 'user' && principal.userEntityRef) return principal.userEntityRef;
  if (principal.type === 'service' && principal.subject) return principal.subject;
  return principal.type;
}
