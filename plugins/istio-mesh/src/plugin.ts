import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { istioMeshApiRef } from './api/IstioMeshApi';
import { IstioMeshClient } from './api/IstioMeshClient';

export const entityServiceMeshRouteRef = createRouteRef({ id: 'istio-mesh:entity-content' });
export const serviceMeshPageRouteRef = createRouteRef({ id: 'istio-mesh:page' });

/** The Istio mesh plugin for apps on the legacy frontend system. */
export const istioMeshPlugin = createPlugin({
  id: 'istio-mesh',
  apis: [
    createApiFactory({
      api: istioMeshApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) => new IstioMeshClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: { entityContent: entityServiceMeshRouteRef, root: serviceMeshPageRouteRef },
});

/** The "Service Mesh" entity tab, for `EntityLayout.Route` in a legacy app. */
export const EntityServiceMeshContent = istioMeshPlugin.provide(
  createRoutableExtension({
    name: 'EntityServiceMeshContent',
    component: () =>
      import('./components/EntityServiceMeshContent').then(m => m.EntityServiceMeshContent),
    mountPoint: entityServiceMeshRouteRef,
  }),
);

/** The fleet overview and cluster pages, for a `<Route path="/service-mesh">` in a legacy app. */
export const ServiceMeshPage = istioMeshPlugin.provide(
  createRoutableExtension({
    name: 'ServiceMeshPage',
    component: () => import('./components/MeshOverviewPage').then(m => m.MeshRoutes),
    mountPoint: serviceMeshPageRouteRef,
  }),
);

/** The entity overview card (`<EntityMeshCard />` on an entity's Overview tab). */
export const EntityMeshCard = istioMeshPlugin.provide(
  createComponentExtension({
    name: 'EntityMeshCard',
    component: { lazy: () => import('./components/EntityMeshCard').then(m => m.EntityMeshCard) },
  }),
);
