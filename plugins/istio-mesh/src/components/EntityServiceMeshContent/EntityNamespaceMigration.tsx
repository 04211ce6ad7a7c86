import { InfoCard, Progress } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { useEntity } from '@backstage/plugin-catalog-react';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import LinearProgress from '@material-ui/core/LinearProgress';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import Alert from '@material-ui/lab/Alert';
import {
  ClusterEntityMeshStatus,
  UpgradeNamespaceStatus,
  UpgradeRun,
  UpgradeStep,
  istioMeshNamespaceMigratePermission,
  istioMeshUpgradeStartPermission,
} from '@mesh-portal/plugin-istio-mesh-common';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useInterval from 'react-use/esm/useInterval';
import { istioMeshApiRef } from '../../api/IstioMeshApi';

const ACTIVE = new Set(['in-progress', 'waiting', 'failed']);
const POLL_MS = 2000;

/**
 * "Migrate my namespace" on the entity's Service Mesh tab: for each cluster where the
 * entity runs and a canary upgrade is active, each of the entity's namespaces not on the
 * canary yet gets a button that relabels it and restarts its workloads (the cluster
 * page's migrate action), with progress and outcome. Nothing is shown when there is
 * nothing to migrate.
 */
export function EntityNamespaceMigrations({ clusters }: { clusters: ClusterEntityMeshStatus[] }) {
  // A canary needs two control planes; a cluster with one has nothing to migrate to.
  const candidates = clusters.filter(c => c.controlPlane.revisions.length >= 2);
  return (
    <>
      {candidates.map(c => (
        <ClusterMigrations key={c.cluster} cluster={c} />
      ))}
    </>
  );
}

function ClusterMigrations({ cluster }: { cluster: ClusterEntityMeshStatus }) {
  const api = useApi(istioMeshApiRef);
  const { value: run, error, retry } = useAsyncRetry(async () => api.getUpgrade(cluster.cluster), [api, cluster.cluster]);
  const [followed, setFollowed] = useState<Record<string, number>>({});
  const ownNamespaces = cluster.namespaces.map(n => n.name);
  const rows = run && ACTIVE.has(run.status) ? run.namespaces.filter(n => ownNamespaces.includes(n.name)) : [];
  // Shown while something is left to move, or to report the outcome of a migration started here.
  const shown = rows.filter(n => n.state !== 'migrated' || followed[n.name] !== undefined);
  // Also after the pods moved: with metrics, the step goes on measuring (the health gate).
  const followedRunning = Object.values(followed).some(id => run?.steps.some(s => s.id === id && s.outcome === 'running'));
  const polling = shown.some(n => n.state === 'migrating') || followedRunning;
  useInterval(retry, polling ? POLL_MS : null);

  if (error) {
    return (
      <Grid item xs={12}>
        <Alert severity="warning">
          Could not read the canary upgrade of {cluster.cluster}: {error.message}
        </Alert>
      </Grid>
    );
  }
  if (!run || shown.length === 0) return null;
  return (
    <Grid item xs={12}>
      <InfoCard title={`Canary upgrade in ${cluster.cluster}: ${run.from} → ${run.to}`}>
        {shown.map(ns => (
          <NamespaceMigration
            key={ns.name}
            run={run}
            namespace={ns}
            followedStepId={followed[ns.name]}
            onStarted={step => {
              setFollowed(f => ({ ...f, [ns.name]: step.id }));
              retry();
            }}
          />
        ))}
      </InfoCard>
    </Grid>
  );
}

function NamespaceMigration(props: {
  run: UpgradeRun;
  namespace: UpgradeNamespaceStatus;
  followedStepId?: number;
  onStarted: (step: UpgradeStep) => void;
}) {
  const { run, namespace: ns, followedStepId } = props;
  const api = useApi(istioMeshApiRef);
  const { entity } = useEntity();
  const entityRef = stringifyEntityRef(entity);
  const migrate = usePermission({ permission: istioMeshNamespaceMigratePermission, resourceRef: entityRef });
  const platform = usePermission({ permission: istioMeshUpgradeStartPermission });
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ message: string; denied: boolean } | undefined>();

  const step = run.steps.find(s => s.id === (followedStepId ?? ns.lastStepId));
  const label = `Migrate ${ns.name} to ${run.to}`;
  const blocking = run.steps.find(s => s.outcome === 'running' && s.action !== 'migrate');

  let why: string | undefined;
  if (migrate.loading || platform.loading) why = 'Checking your permissions…';
  else if (!migrate.allowed && !platform.allowed) {
    why = `You may not migrate ${ns.name}: it takes the istio-mesh.namespace.migrate permission on every component running in ${ns.name} (or the platform team's upgrade permission).`;
  } else if (blocking) why = `The ${blocking.action} step of this upgrade is still running: wait for it to finish.`;

  const click = async () => {
    setBusy(true);
    setFailure(undefined);
    try {
      const res = await api.migrateNamespace(run.cluster, ns.name, run.to);
      props.onStarted(res.step);
    } catch (e) {
      // A ResponseError carries the backend's own explanation in its body.
      const error = e as Error & { response?: { status?: number }; body?: { error?: { name?: string; message?: string } } };
      const cause = error.body?.error;
      setFailure({
        message: cause?.message ?? error.message,
        denied: error.response?.status === 403 || cause?.name === 'NotAllowedError',
      });
    } finally {
      setBusy(false);
    }
  };

  const total = Object.values(ns.podsByRevision).reduce((a, b) => a + b, 0);
  const onTarget = ns.podsByRevision[run.to] ?? 0;
  const pods = Object.entries(ns.podsByRevision)
    .map(([revision, n]) => `${revision}: ${n}`)
    .join(', ');
  const canClick = ns.state === 'pending' || ns.state === 'failed';

  return (
    <Box mb={2}>
      <Typography variant="subtitle1">
        Namespace {ns.name}: {ns.state === 'migrated' ? `on ${run.to}` : `labelled ${ns.revision ?? 'for no revision'}`} · pods
        by sidecar revision: {pods || 'none running'}
      </Typography>
      {ns.state === 'migrating' && (
        <Box my={1}>
          <Typography variant="body2">
            Moving {ns.name} to {run.to}: {onTarget} of {total} pods on {run.to}
            {step?.message ? ` — ${step.message}` : ''}
          </Typography>
          <LinearProgress
            variant="determinate"
            value={total ? (100 * onTarget) / total : 0}
            aria-label={`${ns.name} pods on ${run.to}`}
          />
        </Box>
      )}
      {step && step.outcome === 'running' && ns.state === 'migrated' && (
        <Typography variant="body2">
          Every pod of {ns.name} runs {run.to}; the migration goes on{step.message ? `: ${step.message}` : '.'}
        </Typography>
      )}
      {step && step.outcome === 'succeeded' && step.id === followedStepId && (
        <Alert severity="success">{step.message ?? `${ns.name} runs ${run.to}.`}</Alert>
      )}
      {step && step.outcome === 'failed' && ns.state !== 'migrated' && (
        <Alert severity="error">
          The last migration of {ns.name} failed: {step.message ?? 'no reason recorded'}. Migrate again to retry: it
          continues from where the cluster stands.
        </Alert>
      )}
      {failure && (
        <Alert severity="error">
          {failure.denied ? `Not allowed to migrate ${ns.name}: ` : `Could not migrate ${ns.name}: `}
          {failure.message}
        </Alert>
      )}
      {canClick && (
        <Box mt={1} display="flex" alignItems="center" style={{ gap: 8 }}>
          <Tooltip title={why ?? ''}>
            <span>
              <Button variant="contained" color="primary" size="small" disabled={!!why || busy} onClick={click}>
                {label}
              </Button>
            </span>
          </Tooltip>
          {busy && <Progress />}
          {!why && (
            <Typography variant="body2" color="textSecondary">
              Relabels {ns.name} for {run.to} and restarts every workload in it, including other components that run
              there.
            </Typography>
          )}
        </Box>
      )}
    </Box>
  );
}
