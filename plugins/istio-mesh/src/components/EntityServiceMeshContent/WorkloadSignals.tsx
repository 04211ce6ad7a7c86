import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { GoldenSignalSeries, SeriesPoint, WorkloadMetrics } from '@mesh-portal/plugin-istio-mesh-common';
import { LineChart, LineSeries } from '../metrics/LineChart';
import { SignalHealthBadge, formatMs, formatRatio, formatRps } from '../metrics/SignalHealthBadge';

const toPercent = (points: SeriesPoint[]): SeriesPoint[] =>
  points.map(p => ({ t: p.t, v: p.v === null ? null : p.v * 100 }));

/** The three charts of one set of series: requests/s, 5xx %, and p50/p90/p99. */
function SignalCharts(props: {
  label: string;
  lines: Array<{ name: string; series: GoldenSignalSeries; dashed?: boolean }>;
  latency: 'percentiles' | 'p99';
  from: number;
  to: number;
}) {
  const { lines, from, to } = props;
  const pick = (f: (s: GoldenSignalSeries) => SeriesPoint[]): LineSeries[] =>
    lines.map(l => ({ name: l.name, points: f(l.series), dashed: l.dashed }));
  const latency: LineSeries[] =
    props.latency === 'percentiles' && lines.length === 1
      ? [
          { name: 'p50', points: lines[0].series.p50Ms },
          { name: 'p90', points: lines[0].series.p90Ms },
          { name: 'p99', points: lines[0].series.p99Ms },
        ]
      : pick(s => s.p99Ms);
  return (
    <Grid container spacing={2}>
      <Grid item xs={12} md={4}>
        <LineChart title={`Requests per second${props.label}`} unit="req/s" from={from} to={to} series={pick(s => s.requestsPerSecond)} />
      </Grid>
      <Grid item xs={12} md={4}>
        <LineChart title={`5xx error rate${props.label}`} unit="%" from={from} to={to} series={pick(s => toPercent(s.errorRatio))} />
      </Grid>
      <Grid item xs={12} md={4}>
        <LineChart
          title={`${props.latency === 'percentiles' ? 'Latency p50 / p90 / p99' : 'Latency p99'}${props.label}`}
          unit="ms"
          from={from}
          to={to}
          series={latency}
        />
      </Grid>
    </Grid>
  );
}

/**
 * One workload's golden signals: the numbers now, its charts, and, while its pods run
 * more than one sidecar revision (mid-migration), one line per revision so a regression
 * of the new proxies stands out against the old ones.
 */
export function WorkloadSignals(props: { workload: WorkloadMetrics; from: number; to: number }) {
  const { workload: w, from, to } = props;
  const name = `${w.namespace}/${w.workload}`;
  return (
    <Box component="section" mb={3} aria-label={`Golden signals of ${name} in ${w.cluster}`}>
      <Box display="flex" flexWrap="wrap" alignItems="baseline" mb={1} style={{ gap: 16 }}>
        <Typography variant="h6" component="h3">
          {w.cluster} · {name}
        </Typography>
        <SignalHealthBadge health={w.health} reasons={w.healthReasons} />
        <Typography variant="body2" color="textSecondary">
          now: {formatRps(w.current.requestsPerSecond)} · {formatRatio(w.current.errorRatio)} 5xx · p50{' '}
          {formatMs(w.current.p50Ms)} · p99 {formatMs(w.current.p99Ms)}
        </Typography>
      </Box>
      <SignalCharts label="" lines={[{ name: w.workload, series: w.series }]} latency="percentiles" from={from} to={to} />
      {w.byRevision && w.byRevision.length > 0 && (
        <Box mt={2}>
          <Typography variant="subtitle1" component="h4">
            By sidecar revision
          </Typography>
          <Typography variant="body2" color="textSecondary" paragraph>
            {w.byRevision
              .map(r => `${r.revision}: ${r.pods.length} pod${r.pods.length === 1 ? '' : 's'}, ${formatRps(r.current.requestsPerSecond)}, ${formatRatio(r.current.errorRatio)} 5xx, p99 ${formatMs(r.current.p99Ms)}`)
              .join(' · ')}
          </Typography>
          <SignalCharts
            label=" by revision"
            lines={w.byRevision.map((r, i) => ({ name: r.revision, series: r.series, dashed: i > 0 }))}
            latency="p99"
            from={from}
            to={to}
          />
        </Box>
      )}
    </Box>
  );
}
