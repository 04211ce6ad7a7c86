import { createDemoFleet } from '../fleet';
import { SandboxServer, startSandboxServer } from '../server';
import {
  describeKubeContract,
  KubeContractTarget,
} from './__testUtils__/kubeContract';
import { sandboxKubeConfig } from './__testUtils__/sandboxKubeConfig';

let server: SandboxServer;

beforeAll(async () => {
  // A fast clock: pods start 20 ms after they are created.
  server = await startSandboxServer({
    clusters: createDemoFleet({ stepMs: 20 }),
    port: 0,
  });
});

afterAll(async () => {
  await server.close();
});

const targetFor = (cluster: string) => (): KubeContractTarget => ({
  kubeConfig: sandboxKubeConfig(server, cluster),
});

// The demo clusters already hold objects; the contract works in namespaces of its own.
for (const cluster of ['aks-dev', 'aks-prod']) {
  describeKubeContract(`mesh-sandbox ${cluster}`, targetFor(cluster), {
    tokenAuth: { anonymousStatus: 401 },
    eventuallyTimeoutMs: 5_000,
  });
}
