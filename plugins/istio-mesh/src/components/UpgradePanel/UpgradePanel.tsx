import { InfoCard, Progress, Table } from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  ClusterDetail,
  UpgradeNamespaceStatus,
  UpgradeRun,
  canaryPair,
  istioMeshUpgradeCompletePermission,
  istioMeshUpgradeRollbackPermission,
  istioMeshUpgradeStartPermission,
} from '@mesh-portal/plugin-istio-mesh-common';
import { useCallback, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { AcknowledgeRegressionsDialog, HealthGateCell, namespacesNeedingAcknowledgement } from './HealthGate';

const ACTIVE = new Set(['in-progress', 'waiting', 'failed']);

function GuardedButton(props: {
  label: string;
  allowed: boolean;
  why?: string;
  busy: boolean;
  onClick: () => void;
  color?: 'primary' | 'secondary';
}) {
  const button = (
    <span>
      <Button
        variant="contained"
        size="small"
        color={props.color ?? 'primary'}
        disabled={!props.allowed || props.busy}
        onClick={props.onClick}
      >
        {props.label}
      </Button>
    </span>
  );
  return props.allowed ? button : <Tooltip title={props.why ?? ''}>{button}</Tooltip>;
}

/**
 * The cluster's canary upgrade: start, migrate namespaces, complete, roll back. Buttons are
 * disabled (with the reason) when the user lacks the permission or the state machine says
 * no; the backend checks both again.
 */
export function UpgradePanel({ cluster }: { cluster: ClusterDetail }) {
  const api = useApi(istioMeshApiRef);
  const alertApi = useApi(alertApiRef);
  const [busy, setBusy] = useState(false);
  const [confirmTarget, setConfirmTarget] = useState<string | undefined>();
  const start = usePermission({ permission: istioMeshUpgradeStartPermission });
  const complete = usePermission({ permission: istioMeshUpgradeCompletePermission });
  const rollback = usePermission({ permission: istioMeshUpgradeRollbackPermission });
  const { value: run, loading, error, retry } = useAsyncRetry(
    () => api.getUpgrade(cluster.cluster),
    [api, cluster.cluster],
  );
  const active = !!run && ACTIVE.has(run.status);
  useInterval(retry, active ? 3000 : null);

  const act = useCallback(
    async (what: string, action: () => Promise<unknown>) => {
      setBusy(true);
      try {
        await action();
        alertApi.post({ message: `${what}: accepted`, severity: 'success', display: 'transient' });
      } catch (e) {
        alertApi.post({ message: `${what} failed: ${(e as Error).message}`, severity: 'error' });
      } finally {
        setBusy(false);
        retry();
      }
    },
    [alertApi, retry],
  );

  if (loading && !run) return <Progress />;
  const noPermission = 'You do not have permission for this action.';
  const offered = cluster.upgrades.availableUpgrades;
  const adoptable = offered.length === 0 ? canaryPair(cluster.controlPlane.revisions.map(r => r.revision)) : undefined;

  return (
    // A named region, so that assistive technology (and the e2e spec) can find the panel.
    <section aria-label="Canary upgrade">
    <InfoCard title="Canary upgrade">
      {error && <Alert severity="error">{error.message}</Alert>}
      {!active && (
        <Box display="flex" flexWrap="wrap" alignItems="center" style={{ gap: 8 }}>
          <Typography variant="body2">
            {run ? `Last upgrade: ${run.from} → ${run.to} (${run.status}).` : 'No upgrade yet.'}
          </Typography>
          {offered.map(target => (
            <GuardedButton
              key={target}
              label={`Start upgrade to ${target}`}
              allowed={start.allowed}
              why={noPermission}
              busy={busy}
              onClick={() => setConfirmTarget(target)}
            />
          ))}
          {offered.length === 0 && (
            <Typography variant="body2" color="textSecondary">
              {cluster.upgrades.message ?? 'No upgrade offered.'}
            </Typography>
          )}
          {adoptable && (
            // A canary started outside the portal (az aks mesh upgrade start, helm): starting to it adopts it.
            <GuardedButton
              label={`Adopt the canary ${adoptable.stable} → ${adoptable.canary}`}
              allowed={start.allowed}
              why={noPermission}
              busy={busy}
              onClick={() => act(`Adopt the canary ${adoptable.canary}`, () => api.startUpgrade(cluster.cluster, adoptable.canary))}
            />
          )}
        </Box>
      )}
      <StartPlanDialog
        cluster={cluster}
        target={confirmTarget}
        onCancel={() => setConfirmTarget(undefined)}
        onConfirm={target => {
          setConfirmTarget(undefined);
          act(`Start upgrade to ${target}`, () => api.startUpgrade(cluster.cluster, target));
        }}
      />
      {active && run && <ActiveRun run={run} busy={busy} act={act} canComplete={complete.allowed} canRollback={rollback.allowed} />}
    </InfoCard>
    </section>
  );
}

/** What starting will do, so nobody starts a canary without seeing the whole plan. */
function StartPlanDialog(props: {
  cluster: ClusterDetail;
  target?: string;
  onCancel: () => void;
  onConfirm: (target: string) => void;
}) {
  const { cluster, target } = props;
  const current = cluster.controlPlane.revisions.map(r => r.revision).join(', ');
  const meshed = cluster.namespaces.filter(n => n.targetRevision).map(n => n.name);
  return (
    <Dialog open={!!target} onClose={props.onCancel}>
      <DialogTitle>Start a canary upgrade of {cluster.cluster} to {target}?</DialogTitle>
      <DialogContent>
        <ol>
          <li>Copy the shared MeshConfig of {current} (if any) to {target}.</li>
          <li>
            Ask {cluster.upgrades.provider === 'aks' ? 'Azure' : 'the cluster'} to run {current} and {target} side by
            side; both control planes and gateways run until you complete or roll back.
          </li>
          <li>
            Migrate each namespace (relabel and rollout restart): {meshed.join(', ') || 'none meshed yet'}.
          </li>
          <li>Complete (removes {current}) once nothing uses it, or roll back.</li>
        </ol>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button color="primary" variant="contained" onClick={() => target && props.onConfirm(target)}>
          Start upgrade
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function ActiveRun(props: {
  run: UpgradeRun;
  busy: boolean;
  act: (what: string, action: () => Promise<unknown>) => void;
  canComplete: boolean;
  canRollback: boolean;
}) {
  const { run, busy, act } = props;
  const api = useApi(istioMeshApiRef);
  const [acknowledging, setAcknowledging] = useState(false);
  const needsAcknowledgement = namespacesNeedingAcknowledgement(run).length > 0;
  const blockers = (g: { reason?: string; blockers?: string[] }) =>
    [g.reason, ...(g.blockers ?? [])].filter(Boolean).join(' ');
  return (
    <>
      <Typography variant="body1" paragraph>
        {run.from} → {run.to}: <strong>{run.phase}</strong> ({run.status}) ·{' '}
        {run.migratedNamespaces.length} of {run.migratedNamespaces.length + run.pendingNamespaces.length} namespaces
        migrated
      </Typography>
      {run.platform?.error && <Alert severity="error">{run.platform.error.message}</Alert>}
      <Box display="flex" style={{ gap: 8 }} mb={2}>
        <GuardedButton
          label={`Complete (remove ${run.from})`}
          allowed={props.canComplete && run.guards.complete.allowed}
          why={props.canComplete ? blockers(run.guards.complete) : 'You do not have permission to complete upgrades.'}
          busy={busy}
          onClick={() =>
            needsAcknowledgement ? setAcknowledging(true) : act('Complete upgrade', () => api.completeUpgrade(run.cluster))
          }
        />
        <GuardedButton
          label={`Roll back to ${run.from}`}
          color="secondary"
          allowed={props.canRollback}
          why="You do not have permission to roll back upgrades."
          busy={busy}
          onClick={() => act('Roll back upgrade', () => api.rollbackUpgrade(run.cluster))}
        />
      </Box>
      <AcknowledgeRegressionsDialog
        run={run}
        open={acknowledging}
        onCancel={() => setAcknowledging(false)}
        onConfirm={() => {
          setAcknowledging(false);
          act('Complete upgrade', () => api.completeUpgrade(run.cluster, { acknowledgeRegressions: true }));
        }}
      />
      <Table<UpgradeNamespaceStatus>
        title="Namespaces"
        options={{ paging: false, search: false, padding: 'dense' }}
        columns={[
          { title: 'Namespace', field: 'name', highlight: true },
          { title: 'Injects', field: 'revision', emptyValue: '—' },
          {
            title: 'Pods by sidecar revision',
            render: ns => Object.entries(ns.podsByRevision).map(([r, n]) => `${r}: ${n}`).join(', ') || '—',
          },
          { title: 'State', field: 'state' },
          { title: 'Health gate', render: ns => <HealthGateCell run={run} ns={ns} /> },
          {
            title: '',
            render: ns =>
              ns.state === 'pending' ? (
                <Button
                  size="small"
                  variant="outlined"
                  disabled={busy}
                  onClick={() =>
                    act(`Migrate ${ns.name} to ${run.to}`, () => api.migrateNamespace(run.cluster, ns.name, run.to))
                  }
                >
                  Migrate to {run.to}
                </Button>
              ) : null,
          },
        ]}
        data={run.namespaces}
      />
      <Typography variant="h6" component="h3" style={{ marginTop: 16 }}>
        Step log
      </Typography>
      {run.steps.map(step => (
        <Typography key={step.id} variant="body2">
          {step.startedAt} · {step.action}
          {step.namespace ? ` ${step.namespace}` : ''} · {step.actor} · {step.outcome}
          {step.message ? ` — ${step.message}` : ''}
        </Typography>
      ))}
    </>
  );
}
