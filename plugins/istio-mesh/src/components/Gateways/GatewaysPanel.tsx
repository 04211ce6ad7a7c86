import { Table, TableColumn } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import { GatewayStatus } from '@mesh-portal/plugin-istio-mesh-common';

const KIND_LABEL: Record<GatewayStatus['kind'], string> = {
  'ingress-external': 'Ingress (external)',
  'ingress-internal': 'Ingress (internal)',
  egress: 'Egress',
  ingress: 'Ingress',
};

const columns: TableColumn<GatewayStatus>[] = [
  {
    title: 'Gateway',
    render: g => (
      <>
        <Typography variant="body2">{g.name}</Typography>
        <Typography variant="caption" color="textSecondary">
          {KIND_LABEL[g.kind]} · {g.namespace}
        </Typography>
      </>
    ),
  },
  { title: 'Service type', field: 'type' },
  {
    title: 'Addresses',
    render: g => [...g.addresses, ...(g.clusterIP ? [`cluster IP ${g.clusterIP}`] : [])].join(', ') || '—',
  },
  { title: 'Ports', render: g => g.portDetails.map(p => (p.name ? `${p.port} (${p.name})` : String(p.port))).join(', ') || '—' },
  {
    title: 'Per revision',
    render: g =>
      g.deployments.length === 0
        ? 'no Deployment'
        : g.deployments.map(d => (
            <div key={d.name}>
              {d.revision ?? d.name}: {d.readyReplicas}/{d.replicas} ready
              {d.hpa ? ` · HPA ${d.hpa.minReplicas}–${d.hpa.maxReplicas}` : ' · no HPA'}
            </div>
          )),
  },
  {
    title: 'Follows the control plane',
    render: g =>
      g.lag.lagging ? (
        <Typography variant="body2" color="error">
          {[
            ...g.lag.missingRevisions.map(r => `lags: no ${r} Deployment`),
            ...g.lag.orphanedRevisions.map(r => `runs removed ${r}`),
            ...g.lag.notReadyRevisions.map(r => `${r} not ready`),
          ].join('; ')}
        </Typography>
      ) : (
        'yes'
      ),
  },
];

/** Ingress (external/internal) and egress gateways: Service, addresses, ports, per-revision Deployments and HPAs, lag. */
export function GatewaysPanel({ gateways }: { gateways: GatewayStatus[] }) {
  const lagging = gateways.filter(g => g.lag.lagging);
  return (
    <Box component="section" aria-label="Gateways">
      {lagging.length > 0 && (
        <Box mb={2}>
          <Alert severity="warning">
            <AlertTitle>
              {lagging.length === 1 ? 'A gateway lags' : `${lagging.length} gateways lag`} the control plane
            </AlertTitle>
            {lagging.flatMap(g => g.lag.messages).map(m => (
              <div key={m}>{m}</div>
            ))}
          </Alert>
        </Box>
      )}
      <Table<GatewayStatus>
        title="Gateways"
        options={{ paging: false, search: false, padding: 'dense' }}
        columns={columns}
        data={gateways}
        emptyContent={<Typography variant="body2">No ingress or egress gateway in this cluster.</Typography>}
      />
    </Box>
  );
}
