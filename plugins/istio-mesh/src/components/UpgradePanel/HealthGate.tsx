import { StatusError, StatusOK, StatusPending, StatusRunning } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import Typography from '@material-ui/core/Typography';
import {
  HealthGateResult,
  HealthGateWorkload,
  UpgradeNamespaceStatus,
  UpgradeRun,
} from '@mesh-portal/plugin-istio-mesh-common';
import { formatMs, formatRatio, formatRps } from '../metrics/SignalHealthBadge';

/** The health gate recorded on the namespace's last migrate step, if any. */
export function namespaceHealthGate(run: UpgradeRun, ns: UpgradeNamespaceStatus): HealthGateResult | undefined {
  const migrations = run.steps.filter(s => s.action === 'migrate' && s.namespace === ns.name);
  return migrations.sort((a, b) => a.id - b.id)[migrations.length - 1]?.healthGate;
}

/** "payments-api: 5xx 0.5 % → 20 %, p99 30 ms → 120 ms, 2 → 2 req/s". */
export function describeWorkloadChange(w: HealthGateWorkload): string {
  const change = (f: (v: number | null) => string, a: number | null, b: number | null) => `${f(a)} → ${f(b)}`;
  return `${w.workload}: 5xx ${change(formatRatio, w.before.errorRatio, w.after.errorRatio)}, p99 ${change(formatMs, w.before.p99Ms, w.after.p99Ms)}, ${change(formatRps, w.before.requestsPerSecond, w.after.requestsPerSecond)}`;
}

/**
 * The namespaces that make "Complete" need an acknowledgement: what the backend's guard
 * names (it leaves out gates already acknowledged; a gate still measuring needs none),
 * else the namespaces whose gate regressed.
 */
export function namespacesNeedingAcknowledgement(run: UpgradeRun): string[] {
  const fromGuard = run.guards.complete.requiresAcknowledgement;
  if (fromGuard) return fromGuard;
  return run.namespaces.filter(n => n.healthGate === 'regressed').map(n => n.name);
}

/** The Health gate column of the namespaces table. */
export function HealthGateCell(props: { run: UpgradeRun; ns: UpgradeNamespaceStatus }) {
  const { run, ns } = props;
  const gate = namespaceHealthGate(run, ns);
  const verdict = ns.healthGate ?? gate?.verdict;
  if (!verdict) return <>—</>;
  switch (verdict) {
    case 'healthy':
      return <StatusOK>Healthy</StatusOK>;
    case 'pending':
      return (
        <Box>
          <StatusRunning>Measuring</StatusRunning>
          {gate?.reasons.map(r => (
            <Typography key={r} variant="caption" display="block" color="textSecondary">
              {r}
            </Typography>
          ))}
        </Box>
      );
    case 'no-data':
      return (
        <Box>
          <StatusPending>No data</StatusPending>
          {gate?.reasons.map(r => (
            <Typography key={r} variant="caption" display="block" color="textSecondary">
              {r}
            </Typography>
          ))}
        </Box>
      );
    default:
      return (
        <Box>
          <StatusError>Regressed{gate?.acknowledged ? ` (acknowledged by ${gate.acknowledged.by})` : ''}</StatusError>
          {gate?.workloads
            .filter(w => w.verdict === 'regressed')
            .map(w => (
              <Typography key={w.workload} variant="caption" display="block">
                {describeWorkloadChange(w)}
              </Typography>
            ))}
          {!gate && (
            <Typography variant="caption" display="block" color="textSecondary">
              Errors or latency rose after the restart.
            </Typography>
          )}
        </Box>
      );
  }
}

/**
 * Completing removes the old revision, so rolling back becomes impossible: while migrated
 * namespaces regressed, it takes this second, deliberate click naming each regression.
 */
export function AcknowledgeRegressionsDialog(props: {
  run: UpgradeRun;
  open: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const { run } = props;
  const names = namespacesNeedingAcknowledgement(run);
  return (
    <Dialog open={props.open} onClose={props.onCancel} aria-labelledby="mesh-ack-regressions-title">
      <DialogTitle id="mesh-ack-regressions-title">Complete the upgrade despite regressions?</DialogTitle>
      <DialogContent>
        <DialogContentText>
          Completing removes {run.from}; after that you cannot roll back. The health gate found these migrated
          namespaces worse after their restart onto {run.to}:
        </DialogContentText>
        <ul>
          {names.map(name => {
            const ns = run.namespaces.find(n => n.name === name);
            const gate = ns && namespaceHealthGate(run, ns);
            const verdict = ns?.healthGate ?? gate?.verdict;
            return (
              <li key={name}>
                <Typography variant="body2">
                  <strong>{name}</strong>: {verdict === 'pending' ? 'still measuring' : 'regressed'}
                </Typography>
                {gate?.workloads
                  .filter(w => w.verdict === 'regressed')
                  .map(w => (
                    <Typography key={w.workload} variant="body2" color="textSecondary">
                      {describeWorkloadChange(w)}
                    </Typography>
                  ))}
                {gate?.reasons.map(r => (
                  <Typography key={r} variant="body2" color="textSecondary">
                    {r}
                  </Typography>
                ))}
              </li>
            );
          })}
        </ul>
        <DialogContentText>Your acknowledgement is recorded on those steps and in the audit log.</DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button color="secondary" variant="contained" onClick={props.onConfirm}>
          Acknowledge regressions and complete
        </Button>
      </DialogActions>
    </Dialog>
  );
}
