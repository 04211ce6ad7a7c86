import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { istioMeshApiRef } from './api/IstioMeshApi';
import { IstioMeshClient } from './api/IstioMeshClient';

export const entityServiceMeshRouteRef = createRouteRef({ id: 'istio-mesh:entity-content' });

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
  routes: { entityContent: entityServiceMeshRouteRef },
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
