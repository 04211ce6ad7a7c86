/**
 * The sandbox's injection rules in a real cluster: a mutating admission webhook that
 * injects `istio-proxy` as istiod does, and an installer for the AKS add-on's
 * control-plane layout (see docs/testing.md).
 */
export { startInjectionWebhook, reviewPodAdmission } from './injectionWebhook';
export type { InjectionWebhook, InjectionWebhookOptions, AdmissionRecord, AdmissionRequest, AdmissionResponse } from './injectionWebhook';
export { jsonPatchDiff, escapePointerSegment } from './jsonPatchDiff';
export type { JsonPatchOperation } from './jsonPatchDiff';
export { installAksLikeControlPlane } from './aksControlPlane';
export type { AksLikeControlPlaneOptions, InstalledAksControlPlane } from './aksControlPlane';
export { kubeTargetFromEnv, kubeRequest, applyObject, deleteObject, pollUntil, KubeRestError } from './kubeRest';
export type { KubeTarget } from './kubeRest';
