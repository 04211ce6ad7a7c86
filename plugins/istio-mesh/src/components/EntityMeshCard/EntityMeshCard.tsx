import { InfoCard, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { describePhase } from '../EntityServiceMeshContent/describe';

/** The entity's mesh at a glance, for its Overview tab. */
export function EntityMeshCard() {
  const { entity } = useEntity();
  const api = useApi(istioMeshApiRef);
  const ref = getCompoundEntityRef(entity);
  const { value, loading, error } = useAsync(
    () => api.getEntityMeshStatus(ref),
    [api, ref.kind, ref.namespace, ref.name],
  );
  return (
    <InfoCard title="Service mesh" deepLink={{ title: 'Open the Service Mesh tab', link: 'service-mesh' }}>
      {loading && <Progress />}
      {error && <ResponseErrorPanel error={error} />}
      {value && value.clusters.length === 0 && (
        <Typography variant="body2">Not running in any configured cluster.</Typography>
      )}
      {value?.clusters.map(c => {
        const revisions = [...new Set(c.namespaces.flatMap(n => (n.targetRevision ? [n.targetRevision] : [])))];
        return (
          <Typography key={c.cluster} variant="body2" paragraph>
            <strong>{c.cluster}</strong>:{' '}
            {c.meshed ? `injected by ${revisions.join(', ') || 'no revision'}` : 'not in the mesh'}
            {c.driftedPods > 0 ? ` · ${c.driftedPods} drifted pod${c.driftedPods === 1 ? '' : 's'}` : ''} ·{' '}
            {describePhase(c.controlPlane)}
          </Typography>
        );
      })}
      {value?.errors.map(e => (
        <Typography key={e.cluster} variant="body2" color="error">
          {e.cluster}: {e.error.message}
        </Typography>
      ))}
    </InfoCard>
  );
}
