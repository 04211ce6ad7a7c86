import {
  EmptyState,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import Grid from '@material-ui/core/Grid';
import { useEntityMeshStatus } from '../../hooks/useEntityMeshStatus';
import { ClusterMeshCard } from './ClusterMeshCard';
import { EntityNamespaceMigrations } from './EntityNamespaceMigration';
import { EntityMetricsPanel } from './EntityMetricsPanel';

/** The entity's "Service Mesh" tab. */
export function EntityServiceMeshContent() {
  const { entity, value, loading, error } = useEntityMeshStatus();

  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!value) return null;

  return (
    <Grid container spacing={3}>
      {value.errors.map(e => (
        <Grid item xs={12} key={`error-${e.cluster}`}>
          <Alert severity="error">
            <AlertTitle>Could not read cluster {e.cluster}</AlertTitle>
            {e.error.message}
          </Alert>
        </Grid>
      ))}
      {value.clusters.length === 0 && value.errors.length === 0 && (
        <Grid item xs={12}>
          <EmptyState
            missing="data"
            title="Not running in any cluster"
            description={`No pods or workloads of ${entity.metadata.name} were found in the clusters configured under kubernetes: in app-config. Check its backstage.io/kubernetes-id annotation and the labels of its workloads.`}
          />
        </Grid>
      )}
      {value.clusters.map(cluster => (
        <Grid item xs={12} key={cluster.cluster}>
          <ClusterMeshCard status={cluster} />
        </Grid>
      ))}
      <EntityNamespaceMigrations clusters={value.clusters} />
      {value.clusters.length > 0 && <Grid item xs={12}><EntityMetricsPanel /></Grid>}
    </Grid>
  );
}
