import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import {
  analyzeTrust,
  CertificateFacts,
  ClusterSummary,
  ClusterTrustResponse,
  summarizeTrust,
  TrustInput,
} from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { ClusterSummaryCard } from '../common/ClusterSummaryCard';
import { TrustPanel } from './TrustPanel';

jest.setTimeout(30_000);

const NOW = new Date('2026-12-01T06:00:00Z');
const inDays = (d: number) => new Date(NOW.getTime() + d * 86_400_000).toISOString();
const root = (cn: string, fingerprint: string, notAfter: string, keyType: string): CertificateFacts => ({
  subject: `C=NL, O=Contoso, CN=${cn}`,
  issuer: `C=NL, O=Contoso, CN=${cn}`,
  serialNumber: '4A1B2C',
  notBefore: inDays(-100),
  notAfter,
  fingerprintSha256: fingerprint,
  keyType,
  isCA: true,
  selfIssued: true,
});
const OLD = root('Contoso Mesh Root CA 2023', 'AA:11', inDays(21.5), 'RSA 2048');
const NEW = root('Contoso Mesh Root CA 2026', 'BB:22', inDays(3648), 'EC P-384');

/** Responses as the backend builds them: the same common rules over certificate facts. */
function trustResponse(input: Partial<TrustInput>): ClusterTrustResponse {
  return {
    cluster: 'aks-prod',
    fetchedAt: NOW.toISOString(),
    thresholds: { warningDays: 30, criticalDays: 7 },
    ...analyzeTrust({ controlPlaneNamespace: 'aks-istio-system', istiod: [], bundles: [], now: NOW, ...input }),
  };
}

const rotating = trustResponse({
  istiod: [
    { revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' },
    { revision: 'asm-1-30', type: 'csi', secretProviderClass: 'istio-spc-asm-1-30' },
  ],
  secretProviderClasses: ['istio-spc-asm-1-29', 'istio-spc-asm-1-30'],
  bundles: [
    { namespace: 'aks-istio-system', certificates: [OLD, NEW] },
    { namespace: 'payments', certificates: [OLD, NEW] },
    { namespace: 'storefront', certificates: [OLD] },
  ],
});

async function renderPanel(getClusterTrust: () => Promise<ClusterTrustResponse>) {
  await renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, { getClusterTrust }]]}>
      <TrustPanel cluster="aks-prod" />
    </TestApiProvider>,
  );
}

describe('TrustPanel', () => {
  it('shows a plug-in CA mid rotation: both roots with days left, the stale namespace, the expiry warning', async () => {
    const getClusterTrust = jest.fn(async () => rotating);
    await renderPanel(getClusterTrust);
    expect(await screen.findByText('CA: Plug-in CA')).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Certificates of aks-prod' })).getByText('CA: Plug-in CA')).toBeInTheDocument();
    expect(getClusterTrust).toHaveBeenCalledWith('aks-prod');
    expect(screen.getByText('Root rotation in progress: 2 roots', { selector: 'span' })).toBeInTheDocument();
    expect(screen.getByText('asm-1-29: plug-in CA from Key Vault via SecretProviderClass istio-spc-asm-1-29')).toBeInTheDocument();
    expect(screen.getByText('asm-1-30: plug-in CA from Key Vault via SecretProviderClass istio-spc-asm-1-30')).toBeInTheDocument();
    expect(screen.getByText(/Restart workloads \(or wait 24 h\)/)).toBeInTheDocument();
    expect(
      screen.getByText('Root certificate Contoso Mesh Root CA 2023 expires in 21 days (2026-12-22); finish the root rotation before then.'),
    ).toBeInTheDocument();
    expect(screen.getByText(/storefront:/).textContent).toBe('storefront: lacks Contoso Mesh Root CA 2026');
    const rows = screen.getAllByRole('row').filter(r => within(r).queryByText(/^AA:11$|^BB:22$/));
    expect(rows.map(r => within(r).getAllByRole('cell').map(c => c.textContent))).toEqual([
      ['Root', 'Contoso Mesh Root CA 2023C=NL, O=Contoso, CN=Contoso Mesh Root CA 2023', 'self-signed', 'RSA 2048', '2026-08-23', '2026-12-22', '21 days · expiring soon', 'AA:11', '3'],
      ['Root', 'Contoso Mesh Root CA 2026C=NL, O=Contoso, CN=Contoso Mesh Root CA 2026', 'self-signed', 'EC P-384', '2026-08-23', '2036-11-26', '3648 days · valid', 'BB:22', '2'],
    ]);
  });

  it('shows a self-signed mesh without rotation or warnings', async () => {
    const istiod = root('x', 'CC:33', inDays(3000), 'RSA 2048');
    const single = trustResponse({
      istiod: [{ revision: 'asm-1-29', type: 'self-signed' }],
      bundles: [{ namespace: 'aks-istio-system', certificates: [{ ...istiod, subject: 'O=cluster.local', issuer: 'O=cluster.local' }] }],
    });
    await renderPanel(async () => single);
    expect(await screen.findByText("CA: istiod's self-signed CA")).toBeInTheDocument();
    expect(screen.getByText("asm-1-29: istiod's self-signed root")).toBeInTheDocument();
    expect(screen.queryByText(/Root rotation in progress/)).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByText('3000 days · valid')).toBeInTheDocument();
  });

  it('shows unreadable bundles per namespace and a critical expiry as an error', async () => {
    const expired = root('Gone', 'DD:44', inDays(-2), 'RSA 2048');
    const broken = trustResponse({
      bundles: [
        { namespace: 'aks-istio-system', certificates: [expired] },
        { namespace: 'tools', certificates: [], error: 'root-cert.pem holds no PEM certificate' },
      ],
    });
    await renderPanel(async () => broken);
    expect(await screen.findByText('CA: Unknown (no istiod found)')).toBeInTheDocument();
    expect(screen.getByText('tools: unreadable (root-cert.pem holds no PEM certificate)')).toBeInTheDocument();
    const alerts = screen.getAllByRole('alert');
    expect(alerts[0].className).toMatch(/standardError/);
    expect(alerts[0].textContent).toContain('Root certificate Gone expired on 2026-11-29');
    expect(screen.getByText('expired 2 days ago · expired')).toBeInTheDocument();
  });

  it('shows the backend’s error', async () => {
    await renderPanel(async () => {
      throw new Error('cluster aks-prod is unreachable');
    });
    expect(await screen.findByText('Error: cluster aks-prod is unreachable', { selector: 'h6' })).toBeInTheDocument();
  });
});

describe('the cluster card’s certificate line', () => {
  const summary = (trust?: ClusterSummary['trust']): ClusterSummary => ({
    cluster: 'aks-prod',
    provider: 'aks',
    fetchedAt: NOW.toISOString(),
    controlPlane: { namespace: 'aks-istio-system', tags: {}, phase: 'Stable', revisions: [{ revision: 'asm-1-29', version: '1.29.2', replicas: 2, readyReplicas: 2, ready: true }] },
    meshedNamespaces: 2,
    workloads: 4,
    pods: 8,
    podsWithSidecar: 8,
    driftedPods: 0,
    health: 'warning',
    healthReasons: rotating.warnings.map(w => w.message),
    snapshotApiRequests: 10,
    ...(trust ? { trust } : {}),
  });

  it('flags the expiry, the rotation and the stale namespace', async () => {
    await renderInTestApp(<ClusterSummaryCard cluster={summary(summarizeTrust(rotating))} />);
    expect(within(screen.getByRole('group', { name: 'Certificates of aks-prod' })).getByText('CA certificate expires in 21 days')).toBeInTheDocument();
    expect(screen.getByText('Root rotation in progress: 2 roots')).toBeInTheDocument();
    expect(screen.getByText('1 namespace with a stale trust bundle')).toBeInTheDocument();
  });

  it('says nothing about certificates when all is well or unknown', async () => {
    const calm = trustResponse({ bundles: [{ namespace: 'aks-istio-system', certificates: [NEW] }] });
    await renderInTestApp(
      <>
        <ClusterSummaryCard cluster={summary(summarizeTrust(calm))} />
        <ClusterSummaryCard cluster={summary()} />
      </>,
    );
    expect(screen.queryByText(/CA certificate/)).not.toBeInTheDocument();
    expect(screen.queryByText(/Root rotation/)).not.toBeInTheDocument();
  });
});
