import {
  ApiBlueprint,
  PageBlueprint,
  createFrontendPlugin,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import ShareIcon from '@material-ui/icons/Share';
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

const rootRouteRef = createRouteRef();

const meshPage = PageBlueprint.make({
  params: {
    path: '/service-mesh',
    title: 'Service Mesh',
    icon: <ShareIcon />,
    routeRef: rootRouteRef,
    noHeader: true,
    loader: () =>
      import('./components/MeshOverviewPage').then(m => <m.MeshRoutes />),
  },
});

const entityMeshCard = EntityCardBlueprint.make({
  name: 'service-mesh',
  params: {
    filter: isServiceMeshAvailable,
    loader: () =>
      import('./components/EntityMeshCard').then(m => <m.EntityMeshCard />),
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
  extensions: [istioMeshApi, meshPage, entityServiceMeshContent, entityMeshCard],
  routes: { root: rootRouteRef },
});
