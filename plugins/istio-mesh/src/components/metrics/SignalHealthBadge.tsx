import { StatusError, StatusOK, StatusPending, StatusWarning } from '@backstage/core-components';
import Tooltip from '@material-ui/core/Tooltip';
import { SignalHealth } from '@mesh-portal/plugin-istio-mesh-common';
import { formatNumber } from './scale';

export const SIGNAL_HEALTH_LABEL: Record<SignalHealth, string> = {
  healthy: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
  'no-data': 'No data',
};

/** Health of golden signals as Backstage's status dot plus a word; reasons in a tooltip. */
export function SignalHealthBadge(props: { health: SignalHealth; reasons?: string[] }) {
  const label = SIGNAL_HEALTH_LABEL[props.health];
  const badge = (() => {
    switch (props.health) {
      case 'healthy':
        return <StatusOK>{label}</StatusOK>;
      case 'degraded':
        return <StatusWarning>{label}</StatusWarning>;
      case 'failing':
        return <StatusError>{label}</StatusError>;
      default:
        return <StatusPending>{label}</StatusPending>;
    }
  })();
  const reasons = props.reasons?.filter(Boolean) ?? [];
  return reasons.length > 0 ? (
    <Tooltip title={reasons.join(' ')}>
      <span>{badge}</span>
    </Tooltip>
  ) : (
    badge
  );
}

export function formatRps(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${formatNumber(v)} req/s`;
}

/** A 0..1 ratio as a percentage. */
export function formatRatio(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${formatNumber(v * 100)} %`;
}

export function formatMs(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${formatNumber(v)} ms`;
}
