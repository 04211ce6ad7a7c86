/* eslint-disable no-console */
import { createDemoFleet, startSandboxServer } from './index';

// Started by `./run start` and the e2e harness: MESH_SANDBOX_PORT picks the port.
async function main() {
  const port = Number(process.env.MESH_SANDBOX_PORT ?? 7080);
  const server = await startSandboxServer({ clusters: createDemoFleet(), port });
  console.log(`mesh-sandbox listening on ${server.url} (clusters: ${[...server.clusters.keys()].join(', ')})`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
