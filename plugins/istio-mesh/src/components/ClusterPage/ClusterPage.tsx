import {
  Content,
  ContentHeader,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { NamespaceMeshSummary } from '@mesh-portal/plugin-istio-mesh-common';
import { useParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { ClusterSummaryCard } from '../common/ClusterSummaryCard';
import { UpgradePanel } from '../UpgradePanel/UpgradePanel';
import { MeshConfigPanel } from '../MeshConfig/MeshConfigPanel';
import { GatewaysPanel } from '../Gateways/GatewaysPanel';
import { TrustPanel } from '../Trust/TrustPanel';

const INJECTION_LABEL: Record<NamespaceMeshSummary['injection']['mode'], string> = {
  revision: 'istio.io/rev',
  'injection-label': 'istio-injection',
  'ignored-injection-label': 'istio-injection (ignored)',
  conflict: 'conflicting labels',
  'unknown-revision': 'unknown revision',
  none: 'not meshed',
};

const namespaceColumns: TableColumn<NamespaceMeshSummary>[] = [
  { title: 'Namespace', field: 'name', highlight: true },
  { title: 'Revision label', field: 'revisionLabel', emptyValue: '—' },
  { title: 'Injection', render: ns => INJECTION_LABEL[ns.injection.mode] },
  { title: 'Injects', field: 'targetRevision', emptyValue: '—' },
  { title: 'Workloads', field: 'workloads', type: 'numeric' },
  {
    title: 'Pods by sidecar revision',
    render: ns =>
      Object.entries(ns.podsByRevision)
        .map(([rev, n]) => `${rev}: ${n}`)
        .join(', ') || '—',
  },
  { title: 'Drifted', field: 'driftedPods', type: 'numeric' },
];

/** One cluster: control planes, namespaces, gateways and misconfigurations. */
export function ClusterPage() {
  const { cluster = '' } = useParams();
  const api = useApi(istioMeshApiRef);
  const { value, loading, error } = useAsync(() => api.getCluster(cluster), [api, cluster]);

  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!value) return null;

  const problems = value.namespaces.flatMap(n => (n.problem ? [n.problem] : []));
  return (
    <Content>
      <ContentHeader title={`Cluster ${value.cluster}`} />
      <Grid container spacing={3}>
        {problems.length > 0 && (
          <Grid item xs={12}>
            <Alert severity="warning">
              <AlertTitle>Misconfigurations</AlertTitle>
              {problems.map(p => (
                <div key={p}>{p}</div>
              ))}
            </Alert>
          </Grid>
        )}
        <Grid item xs={12} md={6}>
          <ClusterSummaryCard cluster={value} />
        </Grid>
        <Grid item xs={12} md={6}>
          <InfoCard title="Control planes">
            <Table
              options={{ paging: false, search: false, toolbar: false, padding: 'dense' }}
              columns={[
                { title: 'Revision', field: 'revision' },
                { title: 'Istio version', field: 'version', emptyValue: 'unknown' },
                { title: 'istiod ready', render: r => `${r.readyReplicas}/${r.replicas}` },
              ]}
              data={value.controlPlane.revisions}
            />
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <InfoCard title="Upgrades">
            {value.upgrades.error ? (
              <Alert severity="error">{value.upgrades.error.message}</Alert>
            ) : (
              <>
                <Typography variant="body2" paragraph>
                  {value.upgrades.availableUpgrades.length > 0
                    ? `Offered: ${value.upgrades.availableUpgrades.join(', ')}`
                    : 'No upgrade offered.'}
                  {value.upgrades.source ? ` (source: ${value.upgrades.source === 'arm' ? 'Azure Resource Manager' : 'installed revisions'})` : ''}
                </Typography>
                {value.upgrades.message && (
                  <Typography variant="body2" color="textSecondary">
                    {value.upgrades.message}
                  </Typography>
                )}
              </>
            )}
          </InfoCard>
        </Grid>
        <Grid item xs={12}>
          <UpgradePanel cluster={value} />
        </Grid>
        <Grid item xs={12}>
          <MeshConfigPanel cluster={value} />
        </Grid>
        <Grid item xs={12}>
          <Table<NamespaceMeshSummary>
            title="Namespaces"
            options={{ paging: false, search: true, padding: 'dense' }}
            columns={namespaceColumns}
            data={value.namespaces}
          />
        </Grid>
        <Grid item xs={12}>
          <GatewaysPanel gateways={value.gateways} />
        </Grid>
        <Grid item xs={12}>
          <TrustPanel cluster={value.cluster} />
        </Grid>
      </Grid>
    </Content>
  );
}
