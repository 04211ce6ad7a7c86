import { createApiRef } from '@backstage/core-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';
import { EntityMeshStatus } from '@mesh-portal/plugin-istio-mesh-common';

/** Client for the Istio mesh backend (`/api/istio-mesh`). */
export interface IstioMeshApi {
  getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus>;
}

export const istioMeshApiRef = createApiRef<IstioMeshApi>({
  id: 'plugin.istio-mesh.service',
});
