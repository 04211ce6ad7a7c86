import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import useAsync from 'react-use/esm/useAsync';
import { istioMeshApiRef } from '../api/IstioMeshApi';

/** The current entity's mesh status, shared by the tab and the overview card. */
export function useEntityMeshStatus() {
  const { entity } = useEntity();
  const api = useApi(istioMeshApiRef);
  const ref = getCompoundEntityRef(entity);
  const state = useAsync(
    () => api.getEntityMeshStatus(ref),
    [api, ref.kind, ref.namespace, ref.name],
  );
  return { entity, ...state };
}
