/*
 * The Mesh Portal backend: the Backstage core plugins the portal uses, plus the Istio
 * mesh plugin. Plugins that need outside services (scaffolder, TechDocs, search
 * engines, notifications) are left out on purpose.
 */
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

backend.add(import('@backstage/plugin-kubernetes-backend'));

backend.add(import('@mesh-portal/plugin-istio-mesh-backend'));

backend.start();
