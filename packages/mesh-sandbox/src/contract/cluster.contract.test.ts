import { KubeConfig } from '@kubernetes/client-node';
import { describeKubeContract } from './__testUtils__/kubeContract';

/*
 * The same contract against a real kube-apiserver, to check the contract itself:
 *
 *   KUBE_CONTRACT_KUBECONFIG=~/.kube/config [KUBE_CONTRACT_CONTEXT=my-context] \
 *   [KUBE_CONTRACT_ANONYMOUS_STATUS=403] CI=true yarn test src/contract/cluster
 *
 * `./run test` runs it against the control plane that e2e/kube/ builds from source
 * (`e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster`, which sets
 * KUBE_CONTRACT_KUBECONFIG to the admin kubeconfig and KUBE_CONTRACT_ANONYMOUS_STATUS=403:
 * kube-apiserver's anonymous auth is on, so a request without a token is forbidden).
 *
 * It creates (and deletes) a namespace `kube-contract-<random>`. The bearer-token cases
 * run when the context's user authenticates with a static token.
 */
const kubeconfigPath = process.env.KUBE_CONTRACT_KUBECONFIG;

if (kubeconfigPath) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  if (process.env.KUBE_CONTRACT_CONTEXT)
    kc.setCurrentContext(process.env.KUBE_CONTRACT_CONTEXT);
  const usesToken = Boolean(kc.getCurrentUser()?.token);
  const anonymousStatus =
    process.env.KUBE_CONTRACT_ANONYMOUS_STATUS === '403' ? 403 : 401;
  describeKubeContract(
    `real cluster (${kc.getCurrentContext()})`,
    () => ({ kubeConfig: kc }),
    {
      tokenAuth: usesToken ? { anonymousStatus } : undefined,
      timeoutMs: 60_000,
      // Rollouts and namespace finalization run on real controllers (and kwok nodes).
      eventuallyTimeoutMs: 120_000,
    },
  );
} else {
  describe('kube-apiserver contract: real cluster', () => {
    it.todo(
      'runs when KUBE_CONTRACT_KUBECONFIG points at a kubeconfig (e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster)',
    );
  });
}
