import { resourceTypeOfKind } from '../resources';
import { ClusterStore, KubeObject } from '../store';
import { caKeyPair, DistinguishedName, issueCertificate, KeyAlgorithm } from '../tls/x509';

/**
 * The mesh's certificate authority as a cluster shows it:
 * - self-signed (istiod's default): istiod generates a root (`O=cluster.local`, RSA 2048,
 *   10 years) and publishes it to every namespace as ConfigMap `istio-ca-root-cert`
 *   (`root-cert.pem`);
 * - plug-in CA (AKS `--key-vault-id`): each istiod Deployment mounts volume `cacerts` at
 *   `/etc/cacerts` from the Secrets Store CSI driver with SecretProviderClass
 *   `istio-spc-<rev>`; the Key Vault's root certificate (both roots during a rotation) is
 *   what istiod publishes in `istio-ca-root-cert`.
 */

export const CA_ROOT_CONFIGMAP = 'istio-ca-root-cert';
export const CA_ROOT_KEY = 'root-cert.pem';
export const SECRET_PROVIDER_CLASS_API = 'secrets-store.csi.x-k8s.io/v1';

const DAY = 86_400_000;
const t = resourceTypeOfKind;

export interface CaRoot {
  pem: string;
  subject: DistinguishedName;
}

/** A root certificate valid from `notBefore` to `notAfter`, with a key made once per process and `keyLabel`. */
export function makeRoot(keyLabel: string, subject: DistinguishedName, algorithm: KeyAlgorithm, notBefore: Date, notAfter: Date): CaRoot {
  const keys = caKeyPair(keyLabel, algorithm);
  return { subject, pem: issueCertificate({ subject, subjectKey: keys.publicKey, subjectSigner: keys, notBefore, notAfter, ca: true }) };
}

/** istiod's self-signed root as it generates it: `O=cluster.local`, RSA 2048, ten years. */
export function istiodSelfSignedRoot(cluster: string, generatedAt: Date): CaRoot {
  return makeRoot(`istiod-${cluster}`, [['O', 'cluster.local']], { type: 'rsa', bits: 2048 }, generatedAt, new Date(generatedAt.getTime() + 3650 * DAY));
}

/** Writes (or replaces) a namespace's `istio-ca-root-cert` with these roots concatenated. */
export function setCaRootBundle(store: ClusterStore, namespace: string, roots: Array<{ pem: string }>): void {
  const data = { [CA_ROOT_KEY]: roots.map(r => r.pem).join('') };
  const type = t('ConfigMap');
  const current = store.peek(type, namespace, CA_ROOT_CONFIGMAP);
  if (current) store.replace(type, namespace, CA_ROOT_CONFIGMAP, { ...current, data });
  else store.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_ROOT_CONFIGMAP, namespace, labels: { 'istio.io/config': 'true' } }, data });
}

export function secretProviderClassName(revision: string): string {
  return `istio-spc-${revision}`;
}

/** The pod-template volume and mount through which a revision's istiod reads the plug-in CA. */
export function pluginCaVolume(revision: string): { volumes: any[]; volumeMounts: any[] } {
  return {
    volumes: [
      {
        name: 'cacerts',
        csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: secretProviderClassName(revision) } },
      },
    ],
    volumeMounts: [{ name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true }],
  };
}

export interface KeyVaultReference {
  keyVaultName: string;
  tenantId: string;
  /** The client id of the key vault secrets provider's managed identity. */
  identityClientId: string;
  rootCertObjectName: string;
  certObjectName: string;
  keyObjectName: string;
  certChainObjectName: string;
}

/** The SecretProviderClass the add-on creates for a revision's plug-in CA. */
export function secretProviderClass(revision: string, namespace: string, kv: KeyVaultReference): KubeObject {
  const object = (objectName: string, alias: string, objectType: 'secret' | 'cert') =>
    `    - |\n      objectName: ${objectName}\n      objectType: ${objectType}\n      objectAlias: ${alias}\n`;
  return {
    apiVersion: SECRET_PROVIDER_CLASS_API,
    kind: 'SecretProviderClass',
    metadata: { name: secretProviderClassName(revision), namespace, labels: { 'istio.io/rev': revision, 'kubernetes.azure.com/managedby': 'aks' } },
    spec: {
      provider: 'azure',
      parameters: {
        useVMManagedIdentity: 'true',
        userAssignedIdentityID: kv.identityClientId,
        keyvaultName: kv.keyVaultName,
        tenantId: kv.tenantId,
        objects: `array:\n${[
          object(kv.rootCertObjectName, 'root-cert.pem', 'secret'),
          object(kv.certObjectName, 'ca-cert.pem', 'secret'),
          object(kv.keyObjectName, 'ca-key.pem', 'secret'),
          object(kv.certChainObjectName, 'cert-chain.pem', 'secret'),
        ].join('')}`,
      },
    },
  };
}

/**
 * The ARM `certificateAuthority.plugin` that a plug-in CA's SecretProviderClass was made
 * from: the Key Vault's resource id and the names of its four objects (by their aliases).
 */
export function pluginCaProfile(spc: KubeObject, subscriptionId: string, resourceGroup: string) {
  const objects = String(spc.spec?.parameters?.objects ?? '');
  const byAlias = new Map<string, string>();
  for (const m of objects.matchAll(/objectName:\s*(\S+)\s+objectType:\s*\S+\s+objectAlias:\s*(\S+)/g)) byAlias.set(m[2], m[1]);
  const vault = spc.spec?.parameters?.keyvaultName;
  return {
    keyVaultId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault}`,
    certObjectName: byAlias.get('ca-cert.pem'),
    keyObjectName: byAlias.get('ca-key.pem'),
    rootCertObjectName: byAlias.get('root-cert.pem'),
    certChainObjectName: byAlias.get('cert-chain.pem'),
  };
}

/** The plug-in CA's SecretProviderClass already in the control-plane namespace, if the mesh uses one. */
export function existingPluginCa(store: ClusterStore, namespace: string): KubeObject | undefined {
  return [...store.scan(t('SecretProviderClass'), namespace)].find(o => o.metadata.name.startsWith('istio-spc-'));
}

/** The SecretProviderClass of a new revision, copied from the mesh's existing one (the add-on reuses the Key Vault). */
export function copySecretProviderClass(store: ClusterStore, from: KubeObject, revision: string): void {
  const name = secretProviderClassName(revision);
  if (store.peek(t('SecretProviderClass'), from.metadata.namespace, name)) return;
  store.add({
    apiVersion: SECRET_PROVIDER_CLASS_API,
    kind: 'SecretProviderClass',
    metadata: { name, namespace: from.metadata.namespace, labels: { ...from.metadata.labels, 'istio.io/rev': revision } },
    spec: structuredClone(from.spec),
  });
}
