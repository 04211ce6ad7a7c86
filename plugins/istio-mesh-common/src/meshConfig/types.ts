/**
 * Types of the MeshConfig endpoints (`/v1/clusters/:cluster/meshconfig`), kept in sync with
 * `istio-mesh-backend/src/schema/openapi.yaml`.
 */
import type { MeshProvider } from '../injection';
import type { MeshConfigFinding } from './findings';
import type { MeshConfigChange, MeshConfigEffectiveField, MeshConfigOverride } from './merge';

export interface MeshConfigDocument {
  /** The ConfigMap's name and namespace. */
  configMap: string;
  namespace: string;
  exists: boolean;
  /** Key `mesh` of the ConfigMap (empty when absent). */
  yaml: string;
  /** Absent when the ConfigMap does not exist: a save then creates it. */
  resourceVersion?: string;
}

export interface MeshConfigView {
  cluster: string;
  revision: string;
  provider: MeshProvider;
  /** False on upstream Istio, where helm or istioctl own the mesh config. */
  editable: boolean;
  readOnlyReason?: string;
  /** The users' document (`istio-shared-configmap-<rev>`), with its findings under the revision's policy. */
  shared: MeshConfigDocument & { findings: MeshConfigFinding[] };
  /** The add-on's (or the installer's) document, `istio-<rev>`. Never edited by the portal. */
  addonDefault: MeshConfigDocument;
  /** What istiod runs with. */
  effective: { yaml: string; fields: MeshConfigEffectiveField[] };
  /** Shared fields the add-on's default overrides: their values are ignored. */
  overridden: MeshConfigOverride[];
}

export interface MeshConfigValidateRequest {
  revision: string;
  yaml: string;
}

export interface MeshConfigValidation {
  valid: boolean;
  findings: MeshConfigFinding[];
  /** Against the stored shared document (for the preview); absent when the YAML did not parse. */
  diff?: MeshConfigChange[];
  /** Fields of this document the add-on's default would override (ignored). */
  overridden?: MeshConfigOverride[];
}

export interface MeshConfigUpdateRequest {
  revision: string;
  yaml: string;
  /** From the view the edit started from; empty or absent to create the ConfigMap. */
  resourceVersion?: string;
}

export interface MeshConfigUpdateResponse {
  /** What changed in the shared document. */
  diff: MeshConfigChange[];
  view: MeshConfigView;
}
