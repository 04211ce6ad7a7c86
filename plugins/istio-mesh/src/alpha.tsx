import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { istioMeshApiRef } from './api/IstioMeshApi';
import { IstioMeshClient } from './api/IstioMeshClient';
import { isServiceMeshAvailable } from './filters';

const istioMeshApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: istioMeshApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new IstioMeshClient({ discoveryApi, fetchApi }),
    }),
});

const entityServiceMeshContent = EntityContentBlueprint.make({
  name: 'service-mesh',
  params: {
    path: '/service-mesh',
    title: 'Service Mesh',
    filter: isServiceMeshAvailable,
    loader: () =>
      import('./components/EntityServiceMeshContent').then(m => (
        <m.EntityServiceMeshContent />
      )),
  },
});

/**
 * The Istio mesh frontend plugin for the new frontend system.
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'istio-mesh',
  title: 'Service Mesh',
  extensions: [istioMeshApi, entityServiceMeshContent],
});
