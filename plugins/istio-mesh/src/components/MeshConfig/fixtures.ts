import { ClusterDetail, MeshConfigValidation, MeshConfigView } from '@mesh-portal/plugin-istio-mesh-common';

export const cluster = {
  cluster: 'aks-dev',
  controlPlane: { revisions: [{ revision: 'asm-1-29' }, { revision: 'asm-1-30' }] },
} as unknown as ClusterDetail;

export const SHARED = 'accessLogFile: /dev/stdout\ndefaultConfig:\n  gatewayTopology:\n    numTrustedProxies: 2\n';

export function view(overrides: Partial<MeshConfigView> = {}, revision = 'asm-1-29'): MeshConfigView {
  return {
    cluster: 'aks-dev',
    revision,
    provider: 'aks',
    editable: true,
    shared: {
      configMap: `istio-shared-configmap-${revision}`,
      namespace: 'aks-istio-system',
      exists: true,
      yaml: SHARED,
      resourceVersion: '42',
      findings: [{ severity: 'warning', path: 'defaultConfig.gatewayTopology', message: 'is allowed but not supported on asm-1-29', line: 3, column: 3 }],
    },
    addonDefault: { configMap: `istio-${revision}`, namespace: 'aks-istio-system', exists: true, yaml: 'rootNamespace: aks-istio-system\n', resourceVersion: '7' },
    effective: {
      yaml: '',
      fields: [
        { path: 'accessLogFile', value: '/dev/stdout', source: 'shared', class: 'supported', overridden: false },
        { path: 'defaultConfig.gatewayTopology', value: { numTrustedProxies: 1 }, source: 'default', class: 'allowed', overridden: true, sharedValue: { numTrustedProxies: 2 } },
        { path: 'rootNamespace', value: 'aks-istio-system', source: 'default', class: 'blocked', overridden: false },
      ],
    },
    overridden: [{ path: 'defaultConfig.gatewayTopology', sharedValue: { numTrustedProxies: 2 }, effectiveValue: { numTrustedProxies: 1 } }],
    ...overrides,
  };
}

export const blockedValidation: MeshConfigValidation = {
  valid: false,
  findings: [
    {
      severity: 'error',
      path: 'rootNamespace',
      message: 'is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap',
      line: 2,
      column: 1,
    },
  ],
  diff: [{ path: 'rootNamespace', change: 'added', after: 'payments' }],
  overridden: [],
};

export const allowedValidation: MeshConfigValidation = {
  valid: true,
  findings: [],
  diff: [{ path: 'accessLogFile', change: 'changed', before: '/dev/stdout', after: '/dev/stderr' }],
  overridden: [],
};
