import { InfoCard, Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useEntityMeshStatus } from '../../hooks/useEntityMeshStatus';
import Typography from '@material-ui/core/Typography';
import { describePhase } from '../EntityServiceMeshContent/describe';

/** The entity's mesh at a glance, for its Overview tab. */
export function EntityMeshCard() {
  const { value, loading, error } = useEntityMeshStatus();
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
