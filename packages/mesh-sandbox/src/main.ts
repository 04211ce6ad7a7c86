/* eslint-disable no-console */
import { writeFileSync } from 'node:fs';
import { createDemoFleet, createScaleFleet, startSandboxServer } from './index';

/**
 * Started by `./run start` and the e2e harness. Environment:
 * - MESH_SANDBOX_PORT: the HTTP port (default 7080);
 * - MESH_SANDBOX_FLEET: `demo` (default) or `scale` (20 clusters × 200 namespaces ×
 *   2000 pods; MESH_SANDBOX_SCALE_CLUSTERS / _NAMESPACES / _PODS change the sizes);
 * - MESH_SANDBOX_HTTPS_PORT: also serve HTTPS there (0: any free port), with a
 *   self-signed certificate written to MESH_SANDBOX_CA_FILE if set (the Azure SDK
 *   sends tokens only over https and trusts that file as `tlsOptions.ca`);
 * - MESH_SANDBOX_ARM_DELAY_MS: how long ARM operations run (default 1500).
 */
async function main() {
  const env = process.env;
  const port = Number(env.MESH_SANDBOX_PORT ?? 7080);
  const scale = env.MESH_SANDBOX_FLEET === 'scale';
  const started = performance.now();
  const clusters = scale
    ? createScaleFleet({
        clusters: env.MESH_SANDBOX_SCALE_CLUSTERS ? Number(env.MESH_SANDBOX_SCALE_CLUSTERS) : undefined,
        namespacesPerCluster: env.MESH_SANDBOX_SCALE_NAMESPACES ? Number(env.MESH_SANDBOX_SCALE_NAMESPACES) : undefined,
        podsPerCluster: env.MESH_SANDBOX_SCALE_PODS ? Number(env.MESH_SANDBOX_SCALE_PODS) : undefined,
      }).clusters
    : createDemoFleet();
  const server = await startSandboxServer({
    clusters,
    port,
    ...(env.MESH_SANDBOX_HTTPS_PORT !== undefined ? { https: { port: Number(env.MESH_SANDBOX_HTTPS_PORT) } } : {}),
    ...(env.MESH_SANDBOX_ARM_DELAY_MS !== undefined ? { arm: { operationDelayMs: Number(env.MESH_SANDBOX_ARM_DELAY_MS) } } : {}),
  });
  if (server.https && env.MESH_SANDBOX_CA_FILE) writeFileSync(env.MESH_SANDBOX_CA_FILE, server.https.caCertPem);
  const names = [...server.clusters.keys()];
  const shown = names.length > 6 ? `${names.slice(0, 3).join(', ')}, … (${names.length})` : names.join(', ');
  console.log(`mesh-sandbox listening on ${server.url} (clusters: ${shown}) in ${(performance.now() - started).toFixed(0)} ms`);
  if (server.https) console.log(`mesh-sandbox HTTPS (ARM for the Azure SDK) on ${server.https.url}`);
  console.log(`mesh-sandbox Istio metrics: Prometheus HTTP SD at ${server.url}/_sandbox/prometheus/targets, spikes at ${server.url}/_sandbox/traffic`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
