import {
  InfoCard,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
  Table,
  TableColumn,
} from '@backstage/core-components';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Typography from '@material-ui/core/Typography';
import {
  ClusterEntityMeshStatus,
  NamespaceEntityMeshStatus,
  PodMeshStatus,
} from '@mesh-portal/plugin-istio-mesh-common';
import {
  POD_STATE_LABEL,
  describeDrift,
  describeInjection,
  describePhase,
} from './describe';

function PodState({ pod }: { pod: PodMeshStatus }) {
  const label = POD_STATE_LABEL[pod.state];
  switch (pod.state) {
    case 'in-sync':
      return <StatusOK>{label}</StatusOK>;
    case 'drifted':
    case 'not-injected':
      return <StatusWarning>{label}</StatusWarning>;
    case 'unknown':
      return <StatusError>{label}</StatusError>;
    default:
      return <StatusPending>{label}</StatusPending>;
  }
}

const podColumns: TableColumn<PodMeshStatus>[] = [
  { title: 'Pod', field: 'name', highlight: true },
  { title: 'Workload', field: 'workload', emptyValue: '—' },
  {
    title: 'Status',
    render: pod => `${pod.phase}${pod.ready ? '' : ' (not ready)'}`,
  },
  {
    title: 'Sidecar revision',
    render: pod => (pod.sidecar.injected ? pod.sidecar.revision ?? 'unknown' : 'none'),
  },
  {
    title: 'Proxy version',
    render: pod =>
      pod.sidecar.injected
        ? `${pod.sidecar.proxyVersion ?? 'unknown'}${pod.sidecar.native ? ' (native)' : ''}`
        : '—',
  },
  { title: 'Mesh state', render: pod => <PodState pod={pod} /> },
];

function NamespaceSection({ ns }: { ns: NamespaceEntityMeshStatus }) {
  const drift = describeDrift(ns);
  const injectionProblem = describeInjection(ns);
  const revisionText = ns.targetRevision
    ? `istio.io/rev=${ns.revisionLabel ?? ''}${
        ns.targetRevision !== ns.revisionLabel ? ` → ${ns.targetRevision}` : ''
      }`
    : 'not in the mesh';
  return (
    <Box mb={3}>
      <Typography variant="h6" component="h3">
        Namespace {ns.name}: {revisionText}
      </Typography>
      {drift && (
        <Box my={1}>
          <Alert severity="warning">
            <AlertTitle>Sidecars drifted from the namespace's revision</AlertTitle>
            {drift}
          </Alert>
        </Box>
      )}
      {injectionProblem && (
        <Box my={1}>
          <Alert severity="warning">
            <AlertTitle>Injection is misconfigured</AlertTitle>
            {injectionProblem}
          </Alert>
        </Box>
      )}
      <Table<PodMeshStatus>
        title={`Pods in ${ns.name}`}
        options={{ paging: false, search: false, padding: 'dense' }}
        columns={podColumns}
        data={ns.pods}
      />
    </Box>
  );
}

/** One cluster's view of an entity: control plane, upgrade phase, namespaces and pods. */
export function ClusterMeshCard({ status }: { status: ClusterEntityMeshStatus }) {
  const { controlPlane } = status;
  return (
    <InfoCard
      title={`Cluster ${status.cluster}`}
      subheader={`${status.provider === 'aks' ? 'AKS Istio add-on' : 'Istio'} · ${describePhase(controlPlane)}`}
    >
      <Box display="flex" flexWrap="wrap" alignItems="center" mb={2} style={{ gap: 8 }}>
        <Typography variant="body2">Control-plane revisions:</Typography>
        {controlPlane.revisions.map(r => (
          <Chip
            key={r.revision}
            size="small"
            color={r.ready ? 'primary' : 'default'}
            label={`${r.revision}${r.version ? ` (${r.version})` : ''} · istiod ${r.readyReplicas}/${r.replicas}`}
          />
        ))}
        {Object.entries(controlPlane.tags).map(([tag, revision]) => (
          <Chip key={tag} size="small" variant="outlined" label={`tag ${tag} → ${revision}`} />
        ))}
      </Box>
      {!status.meshed && (
        <Typography paragraph>
          Not in the mesh: no namespace of this service asks for sidecar injection and its
          pods run without a sidecar.
        </Typography>
      )}
      {status.namespaces.map(ns => (
        <NamespaceSection key={ns.name} ns={ns} />
      ))}
    </InfoCard>
  );
}
