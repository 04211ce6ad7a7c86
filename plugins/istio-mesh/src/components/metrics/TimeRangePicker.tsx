import ToggleButton from '@material-ui/lab/ToggleButton';
import ToggleButtonGroup from '@material-ui/lab/ToggleButtonGroup';
import { METRICS_WINDOWS, MetricsWindow } from '@mesh-portal/plugin-istio-mesh-common';

const LABELS: Record<MetricsWindow, { short: string; long: string }> = {
  '15m': { short: '15 m', long: 'last 15 minutes' },
  '1h': { short: '1 h', long: 'last hour' },
  '6h': { short: '6 h', long: 'last 6 hours' },
  '24h': { short: '24 h', long: 'last 24 hours' },
};

export function describeWindow(window: MetricsWindow): string {
  return LABELS[window].long;
}

/** 15 m / 1 h / 6 h / 24 h, one always selected. */
export function TimeRangePicker(props: { value: MetricsWindow; onChange: (window: MetricsWindow) => void }) {
  return (
    <ToggleButtonGroup
      size="small"
      exclusive
      value={props.value}
      aria-label="Time range"
      // MUI passes null when the selected button is clicked again: keep the selection.
      onChange={(_e, next: MetricsWindow | null) => next && props.onChange(next)}
    >
      {METRICS_WINDOWS.map(w => (
        <ToggleButton key={w} value={w} aria-label={LABELS[w].long}>
          {LABELS[w].short}
        </ToggleButton>
      ))}
    </ToggleButtonGroup>
  );
}
