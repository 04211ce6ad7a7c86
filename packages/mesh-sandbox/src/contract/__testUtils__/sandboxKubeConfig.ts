import { KubeConfig } from '@kubernetes/client-node';
import { demoToken } from '../../fleet';
import { SandboxServer } from '../../server';

/** A KubeConfig for one sandbox cluster, the way app-config.yaml points the Kubernetes backend at it. */
export function sandboxKubeConfig(
  server: SandboxServer,
  cluster: string,
  token: string = demoToken(cluster),
): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    // The sandbox serves plain HTTP; client-node only allows that with skipTLSVerify.
    { name: cluster, server: server.clusterUrl(cluster), skipTLSVerify: true },
    { name: `${cluster}-sa`, token },
  );
  return kc;
}
