import { InfoCard, StatusError, StatusOK, StatusWarning } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import { ClusterSummary, MeshHealth } from '@mesh-portal/plugin-istio-mesh-common';
import { Link as RouterLink } from 'react-router-dom';
import { describePhase } from '../EntityServiceMeshContent/describe';
import { TrustChips } from '../Trust/TrustChips';

export function HealthStatus({ health }: { health: MeshHealth }) {
  if (health === 'healthy') return <StatusOK>Healthy</StatusOK>;
  if (health === 'warning') return <StatusWarning>Needs attention</StatusWarning>;
  return <StatusError>Critical</StatusError>;
}

/** A cluster at a glance: revisions, upgrade phase, counts and health with its reasons. */
export function ClusterSummaryCard({ cluster, to }: { cluster: ClusterSummary; to?: string }) {
  return (
    <InfoCard
      title={
        to ? (
          <RouterLink to={to} style={{ color: 'inherit' }}>
            {cluster.cluster}
          </RouterLink>
        ) : (
          cluster.cluster
        )
      }
      subheader={`${cluster.provider === 'aks' ? 'AKS Istio add-on' : 'Istio'} · ${describePhase(cluster.controlPlane)}`}
    >
      <Box display="flex" flexWrap="wrap" style={{ gap: 8 }} mb={1}>
        {cluster.controlPlane.revisions.map(r => (
          <Chip
            key={r.revision}
            size="small"
            color={r.ready ? 'primary' : 'default'}
            label={`${r.revision}${r.version ? ` (${r.version})` : ''} · istiod ${r.readyReplicas}/${r.replicas}`}
          />
        ))}
        {Object.entries(cluster.controlPlane.tags).map(([tag, revision]) => (
          <Chip key={tag} size="small" variant="outlined" label={`tag ${tag} → ${revision}`} />
        ))}
      </Box>
      <Typography variant="body2">
        {cluster.meshedNamespaces} meshed namespace{cluster.meshedNamespaces === 1 ? '' : 's'} ·{' '}
        {cluster.workloads} workloads · {cluster.podsWithSidecar}/{cluster.pods} pods with a sidecar ·{' '}
        {cluster.driftedPods} drifted
      </Typography>
      <TrustChips trust={cluster.trust} cluster={cluster.cluster} />
      <Box mt={1}>
        <HealthStatus health={cluster.health} />
        {cluster.healthReasons.map(reason => (
          <Typography key={reason} variant="body2" color="textSecondary">
            {reason}
          </Typography>
        ))}
      </Box>
    </InfoCard>
  );
}
