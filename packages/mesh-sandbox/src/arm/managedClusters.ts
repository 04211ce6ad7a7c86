import { randomUUID } from 'node:crypto';
import { jsonEqual } from '../json';
import { resourceTypeOfKind } from '../resources';
import type { SandboxCluster } from '../server';
import { ArmError, armErrors, revisionChangeRefused } from './armErrors';
import { applyMeshRevisions as defaultApplyMeshRevisions } from '../controllers/controlPlane';
import { AKS_LAYOUT, EGRESS_NAMESPACE, installedRevisions } from '../istio/install';
import { existingPluginCa, pluginCaProfile } from '../istio/trust';
import {
  findRevision,
  isCompatible,
  kubernetesMinor,
  MAX_REVISIONS,
  MESH_REVISIONS,
  MeshRevisionData,
  revisionOrder,
  sortRevisions,
  toArmMeshRevision,
} from './meshRevisions';

/** `properties.serviceMeshProfile` of a managed cluster, as ARM serves it. */
export interface ServiceMeshProfile {
  mode: 'Istio' | 'Disabled';
  istio?: {
    revisions?: string[];
    components?: {
      ingressGateways?: Array<{ mode: 'External' | 'Internal'; enabled: boolean }>;
      egressGateways?: Array<{ name: string; namespace?: string; gatewayConfigurationName?: string; enabled: boolean }>;
    };
    certificateAuthority?: {
      plugin?: { keyVaultId?: string; certObjectName?: string; keyObjectName?: string; rootCertObjectName?: string; certChainObjectName?: string };
    };
  };
}

/** A managed cluster of the simulated ARM, bound to one cluster of the sandbox fleet. */
export interface ManagedClusterSeed {
  /** The fleet cluster (key of the server's cluster map) whose Kubernetes objects follow this resource. */
  cluster: string;
  /** The ARM resource name; defaults to `cluster`. */
  name?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  /** E.g. `1.34`; defaults to the fleet cluster's version. */
  kubernetesVersion?: string;
  /** E.g. `1.34.2`; defaults to the fleet cluster's `gitVersion`. */
  currentKubernetesVersion?: string;
  /** Defaults to what the cluster's objects show: istiod revisions and ingress gateway Services. */
  serviceMeshProfile?: ServiceMeshProfile;
  tags?: Record<string, string>;
}

/** How revisions reach a cluster's Kubernetes objects (the control-plane controller's signature). */
export type ApplyMeshRevisions = (cluster: SandboxCluster, revisions: string[], options?: { delayMs?: number }) => Promise<void>;

export interface ArmOptions {
  /** Defaults to every fleet cluster with an `aks-istio-system` namespace. */
  managedClusters?: ManagedClusterSeed[];
  /** Defaults of derived managed clusters. */
  subscriptionId?: string;
  resourceGroup?: string;
  location?: string;
  /** How long a long-running operation stays `InProgress` (default 1500 ms). */
  operationDelayMs?: number;
  /**
   * `delayMs` handed to `applyMeshRevisions` once the operation delay is over (default 0:
   * the operation's own delay stands for the add-on's work, and the operation succeeds
   * when the Kubernetes objects have followed).
   */
  controlPlaneDelayMs?: number;
  /** `Retry-After` (seconds) on long-running-operation responses; omitted by default (clients poll at their own pace). */
  retryAfterSeconds?: number;
  /** The revision support table; defaults to `MESH_REVISIONS`. */
  meshRevisions?: MeshRevisionData[];
  /** How revisions reach the Kubernetes objects; defaults to the control-plane controller. */
  applyMeshRevisions?: ApplyMeshRevisions;
}

export const DEMO_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const DEMO_RESOURCE_GROUP = 'mesh-portal-demo';
export const DEMO_LOCATION = 'westeurope';
const TYPE = 'Microsoft.ContainerService/ManagedClusters';
/** ARM's api-version of the AKS operation status endpoints. */
const OPERATIONS_API_VERSION = '2016-03-30';

export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed';

export interface ArmOperation {
  id: string;
  /** Resource id of the managed cluster the operation changes. */
  resourceId: string;
  cluster: string;
  status: OperationStatus;
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

interface ManagedClusterState {
  seed: Required<Omit<ManagedClusterSeed, 'serviceMeshProfile' | 'tags'>>;
  tags: Record<string, string>;
  provisioningState: 'Succeeded' | 'Updating' | 'Failed';
  /** The goal state: what the last accepted PUT asked for. */
  serviceMeshProfile: ServiceMeshProfile;
  /** The revisions the Kubernetes objects were last brought to. */
  appliedRevisions: string[];
  operation?: ArmOperation;
}

export interface WriteContext {
  /**
   * Asked once a write is accepted: an error makes its operation end `Failed` (the
   * `failOperation` fault). Asked only then, so that refused writes use up no fault.
   */
  operationFailure?: () => { code: string; message: string } | undefined;
}

/**
 * The Azure Resource Manager of the sandbox, for `Microsoft.ContainerService`: managed
 * clusters and their service mesh profile, mesh upgrade and revision profiles, and the
 * long-running operations of writes. HTTP routing is in `./armHttp.ts`.
 */
export class ArmSimulator {
  private readonly states = new Map<string, ManagedClusterState>(); // key: lower-case resource id
  private readonly operations = new Map<string, ArmOperation>();
  /** Timers of running operations: what ends them now, and what settles them if the server closes first. */
  private readonly timers = new Map<NodeJS.Timeout, { fire: () => void; settle: () => void }>();
  private readonly pending = new Set<Promise<void>>();
  private readonly apply: ApplyMeshRevisions;
  readonly meshRevisions: MeshRevisionData[];
  operationDelayMs: number;

  constructor(
    private readonly clusters: Map<string, SandboxCluster>,
    private readonly options: ArmOptions = {},
  ) {
    this.apply = options.applyMeshRevisions ?? defaultApplyMeshRevisions;
    this.meshRevisions = options.meshRevisions ?? MESH_REVISIONS;
    this.operationDelayMs = options.operationDelayMs ?? 1500;
    const seeds = options.managedClusters ?? deriveSeeds(clusters);
    for (const seed of seeds) this.addManagedCluster(seed);
  }

  /** Adds a managed cluster bound to a fleet cluster (e.g. one added after the server started). */
  addManagedCluster(seed: ManagedClusterSeed) {
    const cluster = this.clusters.get(seed.cluster);
    if (!cluster) throw new Error(`No cluster named ${seed.cluster} in the fleet`);
    const full = {
      cluster: seed.cluster,
      name: seed.name ?? seed.cluster,
      subscriptionId: seed.subscriptionId ?? this.options.subscriptionId ?? DEMO_SUBSCRIPTION_ID,
      resourceGroup: seed.resourceGroup ?? this.options.resourceGroup ?? DEMO_RESOURCE_GROUP,
      location: seed.location ?? this.options.location ?? DEMO_LOCATION,
      kubernetesVersion: seed.kubernetesVersion ?? `${cluster.kubernetesVersion.major}.${cluster.kubernetesVersion.minor.replace(/\D/g, '')}`,
      currentKubernetesVersion: seed.currentKubernetesVersion ?? cluster.kubernetesVersion.gitVersion.replace(/^v/, ''),
    };
    const profile = structuredClone(seed.serviceMeshProfile ?? observedMeshProfile(cluster, full));
    const state: ManagedClusterState = {
      seed: full,
      tags: { ...seed.tags },
      provisioningState: 'Succeeded',
      serviceMeshProfile: profile,
      appliedRevisions: profile.mode === 'Istio' ? [...(profile.istio?.revisions ?? [])] : [],
    };
    this.states.set(resourceId(full).toLowerCase(), state);
  }

  /** Resource ids of the managed clusters. */
  list(): string[] {
    return [...this.states.values()].map(s => resourceId(s.seed));
  }

  /** The fleet cluster behind a managed cluster name (for fault rules), if any. */
  clusterOfManagedCluster(name: string): string | undefined {
    for (const s of this.states.values()) if (s.seed.name.toLowerCase() === name.toLowerCase()) return s.seed.cluster;
    return undefined;
  }

  clusterOfOperation(operationId: string): string | undefined {
    return this.operations.get(operationId.toLowerCase())?.cluster;
  }

  operation(operationId: string): ArmOperation | undefined {
    const op = this.operations.get(operationId.toLowerCase());
    return op && { ...op };
  }

  /** Resolves when every long-running operation started so far has finished. */
  async whenIdle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Ends every running operation now, as if its delay were over, and waits for them. */
  async finishOperations(): Promise<void> {
    for (const { fire } of [...this.timers.values()]) fire();
    await this.whenIdle();
  }

  /** Stops running operations where they are (for a server that closes). */
  close() {
    for (const [timer, { settle }] of this.timers) {
      clearTimeout(timer);
      settle();
    }
    this.timers.clear();
  }

  // --- subscriptions, resource groups, lookups ---

  checkSubscription(sub: string) {
    if (![...this.states.values()].some(s => s.seed.subscriptionId.toLowerCase() === sub.toLowerCase())) {
      throw armErrors.subscriptionNotFound(sub);
    }
  }

  checkResourceGroup(sub: string, rg: string) {
    this.checkSubscription(sub);
    const found = [...this.states.values()].some(
      s => s.seed.subscriptionId.toLowerCase() === sub.toLowerCase() && s.seed.resourceGroup.toLowerCase() === rg.toLowerCase(),
    );
    if (!found) throw armErrors.resourceGroupNotFound(rg);
  }

  private state(sub: string, rg: string, name: string): ManagedClusterState {
    this.checkResourceGroup(sub, rg);
    const state = this.states.get(resourceId({ subscriptionId: sub, resourceGroup: rg, name }).toLowerCase());
    if (!state) throw armErrors.resourceNotFound('Microsoft.ContainerService/managedClusters', name, rg);
    return state;
  }

  listManagedClusters(sub: string, rg?: string) {
    if (rg) this.checkResourceGroup(sub, rg);
    else this.checkSubscription(sub);
    const value = [...this.states.values()]
      .filter(s => s.seed.subscriptionId.toLowerCase() === sub.toLowerCase() && (!rg || s.seed.resourceGroup.toLowerCase() === rg.toLowerCase()))
      .map(s => this.toArm(s));
    return { value };
  }

  getManagedCluster(sub: string, rg: string, name: string) {
    return this.toArm(this.state(sub, rg, name));
  }

  // --- mesh upgrade and revision profiles ---

  private upgradeProfile(state: ManagedClusterState) {
    const profile = state.serviceMeshProfile;
    const revisions = profile.mode === 'Istio' ? sortRevisions(profile.istio?.revisions ?? []) : [];
    if (revisions.length === 0) {
      throw new ArmError(400, 'BadRequest', 'Istio-based service mesh add-on is not enabled on the cluster.');
    }
    if (revisions.length > 1) throw armErrors.meshUpgradeInProgress(revisions[0], revisions[revisions.length - 1]);
    const data = findRevision(this.meshRevisions, revisions[0]);
    const upgrades = (data?.upgrades ?? []).filter(u => {
      const target = findRevision(this.meshRevisions, u);
      return target && isCompatible(target, state.seed.currentKubernetesVersion);
    });
    return {
      id: `${resourceId(state.seed)}/meshUpgradeProfiles/istio`,
      name: 'istio',
      type: 'Microsoft.ContainerService/managedClusters/meshUpgradeProfiles',
      properties: data
        ? toArmMeshRevision(data, upgrades)
        : { revision: revisions[0], upgrades: [], compatibleWith: [] }, // a revision past end of life
    };
  }

  getMeshUpgradeProfile(sub: string, rg: string, name: string, mode: string) {
    const state = this.state(sub, rg, name);
    if (mode.toLowerCase() !== 'istio') throw armErrors.notFound(`Mesh upgrade profile '${mode}'`);
    return this.upgradeProfile(state);
  }

  listMeshUpgradeProfiles(sub: string, rg: string, name: string) {
    return { value: [this.upgradeProfile(this.state(sub, rg, name))] };
  }

  private revisionProfile(sub: string, location: string) {
    return {
      id: `/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${location}/meshRevisionProfiles/istio`,
      name: 'istio',
      type: 'Microsoft.ContainerService/locations/meshRevisionProfiles',
      properties: { meshRevisions: this.meshRevisions.map(r => toArmMeshRevision(r)) },
    };
  }

  getMeshRevisionProfile(sub: string, location: string, mode: string) {
    this.checkSubscription(sub);
    if (mode.toLowerCase() !== 'istio') throw armErrors.notFound(`Mesh revision profile '${mode}'`);
    return this.revisionProfile(sub, location);
  }

  listMeshRevisionProfiles(sub: string, location: string) {
    this.checkSubscription(sub);
    return { value: [this.revisionProfile(sub, location)] };
  }

  // --- writes and long-running operations ---

  /**
   * PUT of a managed cluster: validates the change, accepts it (`Updating`) and starts
   * the operation that, after `operationDelayMs`, brings the Kubernetes side along.
   */
  putManagedCluster(sub: string, rg: string, name: string, body: any, ctx: WriteContext = {}) {
    let state: ManagedClusterState;
    try {
      state = this.state(sub, rg, name);
    } catch (e) {
      if (e instanceof ArmError && e.code === 'ResourceNotFound') {
        throw new ArmError(
          400,
          'BadRequest',
          `The mesh sandbox serves only the managed clusters of its fleet and cannot create '${name}'.`,
        );
      }
      throw e;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw armErrors.badBody('the body must be a JSON object');
    if (state.operation?.status === 'InProgress') throw armErrors.operationInProgress(state.operation.id, state.operation.startTime);
    if (body.location && normalizeLocation(body.location) !== normalizeLocation(state.seed.location)) {
      throw new ArmError(
        400,
        'InvalidResourceLocation',
        `The resource '${state.seed.name}' already exists in location '${state.seed.location}' in resource group '${state.seed.resourceGroup}'. A resource with the same name cannot be created in location '${body.location}'. Please select a new resource name.`,
      );
    }
    const props = body.properties ?? {};
    const requestedVersion = props.kubernetesVersion;
    if (requestedVersion && kubernetesMinor(String(requestedVersion)) !== kubernetesMinor(state.seed.currentKubernetesVersion)) {
      throw new ArmError(
        400,
        'BadRequest',
        `The mesh sandbox does not simulate Kubernetes upgrades: the cluster runs ${state.seed.currentKubernetesVersion}, the request asks for ${requestedVersion}.`,
      );
    }
    const next = props.serviceMeshProfile === undefined ? state.serviceMeshProfile : this.validateMeshProfile(state, props.serviceMeshProfile);
    if (body.tags !== undefined) state.tags = { ...body.tags };
    state.serviceMeshProfile = next;
    state.provisioningState = 'Updating';
    const op: ArmOperation = {
      id: randomUUID(),
      resourceId: resourceId(state.seed),
      cluster: state.seed.cluster,
      status: 'InProgress',
      startTime: new Date().toISOString(),
    };
    state.operation = op;
    this.operations.set(op.id.toLowerCase(), op);
    this.run(state, op, ctx.operationFailure?.());
    return { body: this.toArm(state), operation: op };
  }

  /** Absolute URLs of the operation's status endpoints, for `Azure-AsyncOperation` and `Location`. */
  operationUrls(baseUrl: string, op: ArmOperation, state?: { subscriptionId: string; location: string }) {
    const s = state ?? this.seedOf(op);
    const prefix = `${baseUrl}/subscriptions/${s.subscriptionId}/providers/Microsoft.ContainerService/locations/${normalizeLocation(s.location)}`;
    return {
      asyncOperation: `${prefix}/operations/${op.id}?api-version=${OPERATIONS_API_VERSION}`,
      location: `${prefix}/operationresults/${op.id}?api-version=${OPERATIONS_API_VERSION}`,
    };
  }

  get lroRetryAfterSeconds(): number | undefined {
    return this.options.retryAfterSeconds;
  }

  private seedOf(op: ArmOperation) {
    const state = this.states.get(op.resourceId.toLowerCase());
    if (!state) throw new Error(`operation ${op.id} has no managed cluster`);
    return state.seed;
  }

  /** The body of `.../locations/{location}/operations/{id}` (Azure-AsyncOperation). */
  operationStatus(sub: string, operationId: string) {
    this.checkSubscription(sub);
    const op = this.operations.get(operationId.toLowerCase());
    if (!op) throw armErrors.notFound(`Operation '${operationId}'`);
    const s = this.seedOf(op);
    return {
      id: `/subscriptions/${s.subscriptionId}/providers/Microsoft.ContainerService/locations/${normalizeLocation(s.location)}/operations/${op.id}`,
      name: op.id,
      status: op.status,
      startTime: op.startTime,
      ...(op.endTime ? { endTime: op.endTime } : {}),
      ...(op.error ? { error: op.error } : {}),
    };
  }

  private run(state: ManagedClusterState, op: ArmOperation, failWith?: { code: string; message: string }) {
    const done = new Promise<void>(resolve => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const fire = () => {
        if (!timer || !this.timers.delete(timer)) return;
        clearTimeout(timer);
        this.complete(state, op, failWith).finally(resolve);
      };
      timer = setTimeout(fire, this.operationDelayMs);
      timer.unref?.();
      this.timers.set(timer, { fire, settle: resolve });
    });
    this.pending.add(done);
    done.finally(() => this.pending.delete(done));
  }

  private async complete(state: ManagedClusterState, op: ArmOperation, failWith?: { code: string; message: string }) {
    const finish = (status: OperationStatus, error?: { code: string; message: string }) => {
      op.status = status;
      op.endTime = new Date().toISOString();
      if (error) op.error = error;
      state.provisioningState = status === 'Succeeded' ? 'Succeeded' : 'Failed';
    };
    if (failWith) {
      finish('Failed', failWith);
      return;
    }
    const goal = state.serviceMeshProfile.mode === 'Istio' ? sortRevisions(state.serviceMeshProfile.istio?.revisions ?? []) : [];
    try {
      if (!sameSet(goal, state.appliedRevisions)) {
        const cluster = this.clusters.get(state.seed.cluster);
        if (!cluster) throw new Error(`cluster ${state.seed.cluster} is gone from the fleet`);
        await this.apply(cluster, goal, { delayMs: this.options.controlPlaneDelayMs ?? 0 });
        state.appliedRevisions = goal;
      }
      finish('Succeeded');
    } catch (e) {
      finish('Failed', { code: 'InternalOperationError', message: `Reconciling the Istio add-on failed: ${(e as Error).message}` });
    }
  }

  /** Validates a requested `serviceMeshProfile` against the cluster's and returns the new goal state. */
  private validateMeshProfile(state: ManagedClusterState, requested: any): ServiceMeshProfile {
    if (!requested || typeof requested !== 'object' || Array.isArray(requested)) {
      throw armErrors.badBody('properties.serviceMeshProfile must be an object');
    }
    const knownModes: Record<string, 'Istio' | 'Disabled'> = { istio: 'Istio', disabled: 'Disabled' };
    const mode = knownModes[String(requested.mode).toLowerCase()];
    if (!mode) {
      throw new ArmError(400, 'BadRequest', `The value '${requested.mode}' of serviceMeshProfile.mode is invalid. Allowed values: Istio, Disabled.`);
    }
    if (mode === 'Disabled') return { mode };
    const current = state.serviceMeshProfile.mode === 'Istio' ? state.serviceMeshProfile.istio?.revisions ?? [] : [];
    const istio = requested.istio ?? {};
    let revisions: string[];
    if (istio.revisions === undefined || istio.revisions === null) {
      revisions = current.length > 0 ? [...current] : [this.defaultRevision(state)];
    } else if (!Array.isArray(istio.revisions) || istio.revisions.some((r: unknown) => typeof r !== 'string')) {
      throw armErrors.badBody('serviceMeshProfile.istio.revisions must be an array of strings');
    } else {
      revisions = istio.revisions;
    }
    this.validateRevisionChange(state, current, revisions);

    const ingress = istio.components?.ingressGateways;
    if (ingress !== undefined) {
      if (!Array.isArray(ingress)) throw armErrors.badBody('serviceMeshProfile.istio.components.ingressGateways must be an array');
      const modes = ingress.map((g: any) => String(g?.mode));
      if (modes.some((m: string) => m !== 'External' && m !== 'Internal')) {
        throw new ArmError(400, 'BadRequest', 'Ingress gateway mode must be External or Internal.');
      }
      if (new Set(modes).size !== modes.length) {
        throw new ArmError(400, 'BadRequest', 'At most one External and one Internal ingress gateway are allowed.');
      }
    }
    const currentCa = state.serviceMeshProfile.mode === 'Istio' ? state.serviceMeshProfile.istio?.certificateAuthority : undefined;
    const requestedCa = istio.certificateAuthority;
    // Compared as ARM does, decoded: a client re-serializing the profile may reorder keys.
    if (current.length > 0 && requestedCa !== undefined && !jsonEqual(requestedCa ?? null, currentCa ?? null)) {
      throw new ArmError(
        400,
        'BadRequest',
        'The certificate authority of an enabled service mesh cannot be changed. Disable and re-enable the Istio add-on with the new certificate authority.',
      );
    }
    const components = istio.components ?? state.serviceMeshProfile.istio?.components;
    const ca = requestedCa ?? currentCa;
    return {
      mode,
      istio: {
        revisions: [...revisions],
        ...(components ? { components: structuredClone(components) } : {}),
        ...(ca ? { certificateAuthority: structuredClone(ca) } : {}),
      },
    };
  }

  private defaultRevision(state: ManagedClusterState): string {
    const compatible = this.meshRevisions.filter(r => isCompatible(r, state.seed.currentKubernetesVersion));
    if (compatible.length === 0) {
      throw new ArmError(400, 'BadRequest', `No service mesh revision is compatible with cluster version ${state.seed.currentKubernetesVersion}.`);
    }
    return sortRevisions(compatible.map(r => r.revision)).pop()!;
  }

  /** AKS's rules for `revisions`: at most two, supported, compatible, canary upgrades to an offered revision only. */
  private validateRevisionChange(state: ManagedClusterState, current: string[], requested: string[]) {
    if (requested.length > MAX_REVISIONS) throw revisionChangeRefused('Request exceeds maximum allowed number of revisions.');
    if (requested.length === 0) throw revisionChangeRefused('At least one revision is required when the service mesh mode is Istio.');
    if (new Set(requested).size !== requested.length) throw revisionChangeRefused(`Duplicate revisions in ${requested.join(', ')}.`);
    for (const r of requested) {
      if (!current.includes(r) && !findRevision(this.meshRevisions, r)) {
        throw revisionChangeRefused(`Revision ${r} is not supported by the service mesh add-on.`);
      }
    }
    if (sameSet(requested, current)) return;
    if (current.length === 2) {
      if (requested.length === 1 && current.includes(requested[0])) return; // complete or roll back
      const [from, to] = sortRevisions(current);
      throw armErrors.meshUpgradeInProgress(from, to);
    }
    const version = state.seed.currentKubernetesVersion;
    for (const r of requested.filter(x => !current.includes(x))) {
      if (!isCompatible(findRevision(this.meshRevisions, r)!, version)) {
        throw revisionChangeRefused(`Service mesh revision ${r} is not compatible with cluster version ${version}.`);
      }
    }
    if (current.length === 0) {
      if (requested.length > 1) throw revisionChangeRefused('A service mesh is enabled with exactly one revision.');
      return;
    }
    const [stable] = current;
    const target = requested.find(r => r !== stable)!;
    if (!requested.includes(stable)) {
      throw revisionChangeRefused(
        `Revision ${stable} cannot be replaced by ${target} directly. Start a canary upgrade with revisions [${stable}, ${target}], then complete it.`,
      );
    }
    if (revisionOrder(target) < revisionOrder(stable)) {
      throw revisionChangeRefused(`Downgrading from ${stable} to ${target} is not supported.`);
    }
    const offered = findRevision(this.meshRevisions, stable)?.upgrades ?? [];
    if (!offered.includes(target)) {
      throw revisionChangeRefused(
        `Upgrading from ${stable} to ${target} is not supported. Available upgrades: ${offered.length ? offered.join(', ') : 'none'}.`,
      );
    }
  }

  private toArm(state: ManagedClusterState) {
    const s = state.seed;
    const dnsPrefix = `${s.name}-dns`;
    return {
      id: resourceId(s),
      location: s.location,
      name: s.name,
      type: TYPE,
      tags: { ...state.tags },
      sku: { name: 'Base', tier: 'Standard' },
      identity: { type: 'SystemAssigned' },
      properties: {
        provisioningState: state.provisioningState,
        powerState: { code: 'Running' },
        kubernetesVersion: s.kubernetesVersion,
        currentKubernetesVersion: s.currentKubernetesVersion,
        dnsPrefix,
        fqdn: `${dnsPrefix}-${fqdnHash(s.name)}.hcp.${normalizeLocation(s.location)}.azmk8s.io`,
        agentPoolProfiles: [
          {
            name: 'nodepool1',
            count: 3,
            vmSize: 'Standard_D4ds_v5',
            osType: 'Linux',
            osSKU: 'AzureLinux',
            mode: 'System',
            type: 'VirtualMachineScaleSets',
            orchestratorVersion: s.currentKubernetesVersion,
            currentOrchestratorVersion: s.currentKubernetesVersion,
            provisioningState: state.provisioningState,
            powerState: { code: 'Running' },
          },
        ],
        nodeResourceGroup: `MC_${s.resourceGroup}_${s.name}_${normalizeLocation(s.location)}`,
        enableRBAC: true,
        supportPlan: 'KubernetesOfficial',
        networkProfile: { networkPlugin: 'azure', networkPluginMode: 'overlay', podCidr: '10.244.0.0/16', serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10' },
        serviceMeshProfile: structuredClone(state.serviceMeshProfile),
      },
    };
  }
}

export function resourceId(s: { subscriptionId: string; resourceGroup: string; name: string }): string {
  // AKS answers with the lower-case `resourcegroups` segment.
  return `/subscriptions/${s.subscriptionId}/resourcegroups/${s.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${s.name}`;
}

function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, '');
}

function fqdnHash(name: string): string {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every(x => b.includes(x));
}

/** Every fleet cluster with the add-on's namespace becomes a managed cluster of the demo subscription. */
function deriveSeeds(clusters: Map<string, SandboxCluster>): ManagedClusterSeed[] {
  const namespaces = resourceTypeOfKind('Namespace');
  return [...clusters]
    .filter(([, cluster]) => cluster.store.peek(namespaces, undefined, AKS_LAYOUT.controlPlaneNamespace))
    .map(([name]) => ({ cluster: name }));
}

/**
 * The profile a cluster's objects show: its istiod revisions, its ingress gateway
 * Services, its egress gateway Services (in `aks-istio-egress`) and, when istiod runs on
 * a plug-in CA (SecretProviderClass `istio-spc-<rev>`), the Key Vault it comes from.
 */
export function observedMeshProfile(
  cluster: SandboxCluster,
  where: { subscriptionId: string; resourceGroup: string } = { subscriptionId: DEMO_SUBSCRIPTION_ID, resourceGroup: DEMO_RESOURCE_GROUP },
): ServiceMeshProfile {
  const revisions = sortRevisions(installedRevisions(cluster.store, AKS_LAYOUT));
  if (revisions.length === 0) return { mode: 'Disabled' };
  const services = resourceTypeOfKind('Service');
  const ingressGateways = (['External', 'Internal'] as const)
    .filter(mode => cluster.store.peek(services, AKS_LAYOUT.ingressNamespace, `aks-istio-ingressgateway-${mode.toLowerCase()}`))
    .map(mode => ({ mode, enabled: true }));
  const egressGateways = [...cluster.store.scan(services, EGRESS_NAMESPACE)]
    .filter(s => s.metadata.labels?.['kubernetes.azure.com/managedby'] === 'aks')
    .map(s => ({ name: s.metadata.name, namespace: EGRESS_NAMESPACE, enabled: true }));
  const spc = existingPluginCa(cluster.store, AKS_LAYOUT.controlPlaneNamespace);
  return {
    mode: 'Istio',
    istio: {
      revisions,
      components: { ingressGateways, ...(egressGateways.length ? { egressGateways } : {}) },
      ...(spc ? { certificateAuthority: { plugin: pluginCaProfile(spc, where.subscriptionId, where.resourceGroup) } } : {}),
    },
  };
}
