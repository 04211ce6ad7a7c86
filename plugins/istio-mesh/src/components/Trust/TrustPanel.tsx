import { InfoCard, Progress, ResponseErrorPanel, Table, TableColumn } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import AlertTitle from '@material-ui/lab/AlertTitle';
import {
  CaSourceView,
  CertificateView,
  ClusterTrustResponse,
  displayName,
} from '@mesh-portal/plugin-istio-mesh-common';
import useAsync from 'react-use/esm/useAsync';
import { istioMeshApiRef } from '../../api/IstioMeshApi';

const VALIDITY_LABEL: Record<CertificateView['validity'], string> = {
  valid: 'valid',
  expiring: 'expiring soon',
  critical: 'expires very soon',
  expired: 'expired',
  'not-yet-valid': 'not yet valid',
};

function daysLeftText(c: CertificateView): string {
  if (c.validity === 'expired') return `expired ${-c.daysLeft} day${c.daysLeft === -1 ? '' : 's'} ago`;
  return `${c.daysLeft} day${c.daysLeft === 1 ? '' : 's'}`;
}

const ROLE_LABEL: Record<CertificateView['role'], string> = { root: 'Root', intermediate: 'Intermediate', leaf: 'Leaf (misplaced)' };

const columns: TableColumn<CertificateView>[] = [
  { title: 'Role', render: c => ROLE_LABEL[c.role] },
  {
    title: 'Subject',
    render: c => (
      <>
        <Typography variant="body2">{displayName(c.subject)}</Typography>
        <Typography variant="caption" color="textSecondary">
          {c.subject}
        </Typography>
      </>
    ),
  },
  { title: 'Issuer', render: c => (c.selfIssued ? 'self-signed' : c.issuer) },
  { title: 'Key', field: 'keyType' },
  { title: 'Valid from', render: c => c.notBefore.slice(0, 10) },
  { title: 'Valid until', render: c => c.notAfter.slice(0, 10) },
  {
    title: 'Days left',
    render: c => (
      <Chip
        size="small"
        label={`${daysLeftText(c)} · ${VALIDITY_LABEL[c.validity]}`}
        color={c.validity === 'valid' ? 'default' : 'secondary'}
        variant={c.validity === 'valid' ? 'outlined' : 'default'}
      />
    ),
  },
  {
    title: 'SHA-256 fingerprint',
    render: c => (
      <Tooltip title={`Serial ${c.serialNumber}`}>
        <Typography variant="caption" style={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>
          {c.fingerprintSha256}
        </Typography>
      </Tooltip>
    ),
  },
  { title: 'Namespaces', render: c => c.namespaces.length },
];

function describeCaSource(s: CaSourceView): string {
  if (s.mode === 'self-signed') return `${s.revision}: istiod's self-signed root`;
  if (s.via === 'csi') {
    const found = s.secretProviderClassFound === false ? ' (missing!)' : '';
    return `${s.revision}: plug-in CA from Key Vault via SecretProviderClass ${s.secretProviderClass ?? '(unnamed)'}${found}`;
  }
  return `${s.revision}: plug-in CA from Secret ${s.secretName ?? '(unnamed)'}`;
}

const CA_MODE_LABEL: Record<ClusterTrustResponse['caMode'], string> = {
  'self-signed': "istiod's self-signed CA",
  'plug-in': 'Plug-in CA',
  mixed: 'Mixed: revisions use different CAs',
  unknown: 'Unknown (no istiod found)',
};

/** The trust picture of a cluster, already loaded. */
export function TrustView({ trust }: { trust: ClusterTrustResponse }) {
  const certificates = [...trust.roots, ...trust.intermediates, ...trust.leaves];
  const stale = trust.namespaces.filter(n => n.state !== 'current');
  const subjectOf = (fingerprint: string) => {
    const c = certificates.find(x => x.fingerprintSha256 === fingerprint);
    return c ? displayName(c.subject) : fingerprint;
  };
  return (
    <>
      {trust.error && (
        <Box mb={2}>
          <Alert severity="error">Could not read the trust bundles: {trust.error.message}</Alert>
        </Box>
      )}
      <Box display="flex" flexWrap="wrap" alignItems="center" style={{ gap: 8 }} mb={2}>
        <Chip label={`CA: ${CA_MODE_LABEL[trust.caMode]}`} color="primary" size="small" />
        {trust.rotation.inProgress && <Chip label={`Root rotation in progress: ${trust.rotation.roots} roots`} color="secondary" size="small" />}
        {trust.reference.namespace && (
          <Typography variant="body2" color="textSecondary">
            Bundles compared with {trust.reference.namespace}
            {trust.reference.source === 'majority' ? ' (most namespaces hold it)' : " (the control plane's)"}
          </Typography>
        )}
      </Box>
      {trust.caSources.map(s => (
        <Typography key={s.revision} variant="body2">
          {describeCaSource(s)}
        </Typography>
      ))}
      {trust.rotation.inProgress && trust.rotation.message && (
        <Box mt={2}>
          <Alert severity="info">
            <AlertTitle>Root rotation in progress: {trust.rotation.roots} roots</AlertTitle>
            {trust.rotation.message}
          </Alert>
        </Box>
      )}
      {trust.warnings.length > 0 && (
        <Box mt={2}>
          {trust.warnings.map(w => (
            <Box key={`${w.kind}/${w.namespace ?? ''}/${w.fingerprint ?? ''}/${w.message}`} mb={1}>
              <Alert severity={w.severity === 'critical' ? 'error' : 'warning'}>{w.message}</Alert>
            </Box>
          ))}
        </Box>
      )}
      {stale.length > 0 && (
        <Box mt={2}>
          <Typography variant="subtitle2">Namespaces whose trust bundle differs</Typography>
          {stale.map(n => (
            <Typography key={n.namespace} variant="body2">
              {n.namespace}:{' '}
              {n.state === 'stale' &&
                [
                  ...(n.missing.length ? [`lacks ${n.missing.map(subjectOf).join(', ')}`] : []),
                  ...(n.extra.length ? [`still trusts ${n.extra.map(subjectOf).join(', ')}`] : []),
                ].join('; ')}
              {n.state === 'missing' && 'no istio-ca-root-cert'}
              {n.state === 'invalid' && `unreadable (${n.error})`}
            </Typography>
          ))}
        </Box>
      )}
      <Box mt={2}>
        <Table<CertificateView>
          title="CA certificates"
          options={{ paging: false, search: false, toolbar: true, padding: 'dense' }}
          columns={columns}
          data={certificates}
          emptyContent={<Typography variant="body2">No certificate found in the namespaces' istio-ca-root-cert.</Typography>}
        />
      </Box>
    </>
  );
}

/** The mesh's certificates on the cluster page. */
export function TrustPanel({ cluster }: { cluster: string }) {
  const api = useApi(istioMeshApiRef);
  const { value, loading, error } = useAsync(() => api.getClusterTrust(cluster), [api, cluster]);
  return (
    <section aria-label={`Certificates of ${cluster}`}>
      <InfoCard title="Certificates" subheader="From each namespace's istio-ca-root-cert (root-cert.pem)">
        {loading && <Progress />}
        {error && <ResponseErrorPanel error={error} />}
        {value && <TrustView trust={value} />}
      </InfoCard>
    </section>
  );
}
