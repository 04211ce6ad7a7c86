import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { analyzeGateways, GatewayStatus } from '@mesh-portal/plugin-istio-mesh-common';
import { GatewaysPanel } from './GatewaysPanel';

jest.setTimeout(30_000);

const dep = (name: string, namespace: string, revision: string, ready = 2) => ({ name, namespace, labels: { 'istio.io/rev': revision }, replicas: 2, readyReplicas: ready });
const hpa = (name: string, namespace: string, min: number, max: number) => ({ name, namespace, targetName: name, minReplicas: min, maxReplicas: max });
const ports = [{ name: 'status-port', port: 15021 }, { name: 'http2', port: 80 }, { name: 'https', port: 443 }];

/** What the backend serves for aks-prod mid-canary, through the same common rules. */
const gateways: GatewayStatus[] = analyzeGateways({
  provider: 'aks',
  revisions: ['asm-1-29', 'asm-1-30'],
  services: [
    { name: 'aks-istio-ingressgateway-external', namespace: 'aks-istio-ingress', type: 'LoadBalancer', clusterIP: '10.0.97.12', addresses: ['20.61.14.7'], ports },
    { name: 'payments-egress', namespace: 'aks-istio-egress', type: 'ClusterIP', clusterIP: '10.0.201.17', addresses: [], ports: [{ name: 'http2', port: 80 }, { name: 'https', port: 443 }] },
  ],
  deployments: [
    dep('aks-istio-ingressgateway-external-asm-1-29', 'aks-istio-ingress', 'asm-1-29'),
    dep('aks-istio-ingressgateway-external-asm-1-30', 'aks-istio-ingress', 'asm-1-30', 1),
    dep('payments-egress-asm-1-29', 'aks-istio-egress', 'asm-1-29'),
  ],
  autoscalers: [
    hpa('aks-istio-ingressgateway-external-asm-1-29', 'aks-istio-ingress', 2, 5),
    hpa('aks-istio-ingressgateway-external-asm-1-30', 'aks-istio-ingress', 2, 5),
    hpa('payments-egress-asm-1-29', 'aks-istio-egress', 3, 8),
  ],
}).map(g => ({ ...g, ports: g.portDetails.map(p => p.port) }));

describe('GatewaysPanel', () => {
  it('lists ingress and egress gateways with Service, addresses, ports, readiness and HPA per revision, and says which lag', async () => {
    await renderInTestApp(<GatewaysPanel gateways={gateways} />);
    const alert = screen.getByRole('alert');
    expect(within(alert).getByText('2 gateways lag the control plane')).toBeInTheDocument();
    expect(within(alert).getByText('Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.')).toBeInTheDocument();
    expect(within(alert).getByText('Gateway aks-istio-ingressgateway-external: its asm-1-30 Deployment has 1/2 replicas ready.')).toBeInTheDocument();

    const row = (name: string) => screen.getAllByRole('row').find(r => within(r).queryByText(name))!;
    const cells = (name: string) => within(row(name)).getAllByRole('cell').map(c => c.textContent);
    expect(cells('aks-istio-ingressgateway-external')).toEqual([
      'aks-istio-ingressgateway-externalIngress (external) · aks-istio-ingress',
      'LoadBalancer',
      '20.61.14.7, cluster IP 10.0.97.12',
      '15021 (status-port), 80 (http2), 443 (https)',
      'asm-1-29: 2/2 ready · HPA 2–5asm-1-30: 1/2 ready · HPA 2–5',
      'asm-1-30 not ready',
    ]);
    expect(cells('payments-egress')).toEqual([
      'payments-egressEgress · aks-istio-egress',
      'ClusterIP',
      'cluster IP 10.0.201.17',
      '80 (http2), 443 (https)',
      'asm-1-29: 2/2 ready · HPA 3–8',
      'lags: no asm-1-30 Deployment',
    ]);
  });

  it('says "yes" and shows no alert when every gateway follows the control plane', async () => {
    const calm = gateways.slice(0, 1).map(g => ({
      ...g,
      deployments: g.deployments.map(d => ({ ...d, readyReplicas: 2, ready: true })),
      lag: { lagging: false, missingRevisions: [], orphanedRevisions: [], notReadyRevisions: [], messages: [] },
    }));
    await renderInTestApp(<GatewaysPanel gateways={calm} />);
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.getByText('yes')).toBeInTheDocument();
  });

  it('says when a cluster has no gateway', async () => {
    await renderInTestApp(<GatewaysPanel gateways={[]} />);
    expect(screen.getByText('No ingress or egress gateway in this cluster.')).toBeInTheDocument();
  });
});
