import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { istioMeshPermissions } from '@mesh-portal/plugin-istio-mesh-common';
import {
  ControlPlaneProvider,
  MetricsProvider,
  istioMeshControlPlaneExtensionPoint,
  istioMeshMetricsExtensionPoint,
} from '@mesh-portal/plugin-istio-mesh-node';
import { MetricsService, readMetricsSettings } from './metrics/MetricsService';
import { PrometheusMetricsProvider } from './metrics/PrometheusMetricsProvider';
import { AksControlPlaneProvider } from './providers/AksControlPlaneProvider';
import { UpstreamIstioControlPlaneProvider } from './providers/UpstreamIstioControlPlaneProvider';
import { createRouter } from './router';
import { DefaultGatewayService } from './gateways/GatewayService';
import { DefaultTrustService, readTrustThresholds } from './trust/TrustService';
import { DefaultMeshConfigService } from './meshconfig/MeshConfigService';
import { KubernetesBackendClusterGateway } from './service/ClusterGateway';
import { DefaultMeshInspector } from './service/MeshInspector';
import { ClusterSnapshots } from './service/ClusterSnapshots';
import { MeshReadModel } from './service/MeshReadModel';
import { UpgradePermissions } from './upgrade/permissions';
import { readUpgradeSettings, UpgradeService } from './upgrade/UpgradeService';
import { HealthGate, readHealthGateSettings } from './upgrade/healthGate';
import { UpgradeStore } from './upgrade/UpgradeStore';

/**
 * The Istio mesh backend plugin: mesh status of catalog entities and clusters, read
 * through Backstage's Kubernetes integration.
 *
 * @public
 */
export const istioMeshPlugin = createBackendPlugin({
  pluginId: 'istio-mesh',
  register(env) {
    const moduleProviders: ControlPlaneProvider[] = [];
    env.registerExtensionPoint(istioMeshControlPlaneExtensionPoint, {
      addControlPlaneProvider(provider) {
        moduleProviders.push(provider);
      },
    });
    const metricsProviders: MetricsProvider[] = [];
    env.registerExtensionPoint(istioMeshMetricsExtensionPoint, {
      addMetricsProvider(provider) {
        metricsProviders.push(provider);
      },
    });
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        discovery: coreServices.discovery,
        logger: coreServices.logger,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
        config: coreServices.rootConfig,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        auditor: coreServices.auditor,
        lifecycle: coreServices.lifecycle,
      },
      async init({
        httpRouter,
        httpAuth,
        auth,
        discovery,
        logger,
        permissions,
        permissionsRegistry,
        catalog,
        config,
        database,
        scheduler,
        auditor,
        lifecycle,
      }) {
        permissionsRegistry.addPermissions(istioMeshPermissions);
        const gateway = KubernetesBackendClusterGateway.create({ discovery, auth });
        const inspector = DefaultMeshInspector.create({ gateway, logger });
        const snapshots = new ClusterSnapshots({
          gateway,
          logger,
          ttlMs: config.getOptionalNumber('istioMesh.cache.ttlSeconds') !== undefined
            ? config.getNumber('istioMesh.cache.ttlSeconds') * 1000
            : undefined,
        });
        const aks = AksControlPlaneProvider.fromConfig(config);
        const providers = [...moduleProviders, ...(aks ? [aks] : [])];
        const upstreamProvider = new UpstreamIstioControlPlaneProvider();
        const trust = new DefaultTrustService({ snapshots, thresholds: readTrustThresholds(config) });
        const readModel = new MeshReadModel(snapshots, catalog, providers, upstreamProvider, {
          trust,
          gateways: new DefaultGatewayService(),
        });
        const prometheus = PrometheusMetricsProvider.fromConfig(config);
        const metrics = new MetricsService({
          providers: [...metricsProviders, ...(prometheus ? [prometheus] : [])],
          logger: logger.child({ component: 'metrics' }),
          settings: readMetricsSettings(config),
        });

        const meshConfig = new DefaultMeshConfigService({ gateway, snapshots, logger: logger.child({ component: 'meshconfig' }) });
        // Canary upgrades: persisted runs and steps, resumed by whichever replica runs the task.
        const upgrades = new UpgradeService({
          store: await UpgradeStore.create({ database }),
          gateway,
          snapshots,
          providers,
          upstreamProvider,
          auth,
          logger: logger.child({ component: 'upgrades' }),
          settings: readUpgradeSettings(config),
          healthGate: new HealthGate(metrics, readHealthGateSettings(config)),
          sharedConfig: meshConfig,
        });
        lifecycle.addShutdownHook(() => upgrades.stop());
        const resumeSeconds = config.getOptionalNumber('istioMesh.upgrades.resumeIntervalSeconds') ?? 30;
        await scheduler.scheduleTask({
          id: 'istio-mesh-resume-upgrades',
          scope: 'global',
          frequency: { seconds: resumeSeconds },
          timeout: { minutes: 1 },
          fn: async () => {
            await upgrades.resumeUnfinished();
          },
        });

        httpRouter.use(
          await createRouter({
            httpAuth,
            permissions,
            catalog,
            inspector,
            readModel,
            metrics,
            meshConfig: { auditor, meshConfig },
            trust,
            upgrades: {
              auditor,
              upgrades,
              permissions: new UpgradePermissions(permissions, catalog, snapshots, auth),
            },
          }),
        );
      },
    });
  },
});
