import { InfoCard, Progress } from '@backstage/core-components';
import { getCompoundEntityRef } from '@backstage/catalog-model';
import { useApi } from '@backstage/core-plugin-api';
import { useEntity } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { ClusterError, MetricsWindow } from '@mesh-portal/plugin-istio-mesh-common';
import { useCallback, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { MetricsNote, metricsErrorMessage } from '../metrics/MetricsNote';
import { TimeRangePicker, describeWindow } from '../metrics/TimeRangePicker';
import { useVisibleInterval } from '../metrics/useVisibleInterval';
import { TopologyView } from './TopologyView';
import { WorkloadSignals } from './WorkloadSignals';

/** How often the charts and the topology re-read Prometheus while the tab is visible. */
export const METRICS_REFRESH_MS = 30_000;

function ClusterErrors({ errors }: { errors: ClusterError[] }) {
  return (
    <>
      {errors.map(e => (
        <Box key={e.cluster} mb={1}>
          <MetricsNote severity="warning">{`Metrics unavailable for ${e.cluster}: ${e.error.message}`}</MetricsNote>
        </Box>
      ))}
    </>
  );
}

/**
 * The entity's golden signals (charts per workload) and its callers and callees, over one
 * time range picked for both. When Prometheus is missing or down each card says so in one
 * line; the rest of the tab is unaffected.
 */
export function EntityMetricsPanel() {
  const { entity } = useEntity();
  const api = useApi(istioMeshApiRef);
  const ref = getCompoundEntityRef(entity);
  const [range, setRange] = useState<MetricsWindow>('1h');
  const deps = [api, ref.kind, ref.namespace, ref.name, range];
  const metrics = useAsyncRetry(() => api.getEntityMetrics(ref, range), deps);
  const topology = useAsyncRetry(() => api.getEntityTopology(ref, range), deps);
  const { retry: retryMetrics } = metrics;
  const { retry: retryTopology } = topology;
  const refresh = useCallback(() => {
    retryMetrics();
    retryTopology();
  }, [retryMetrics, retryTopology]);
  useVisibleInterval(refresh, METRICS_REFRESH_MS);

  const picker = <TimeRangePicker value={range} onChange={setRange} />;
  const m = metrics.value;
  const subheader = m
    ? `${describeWindow(m.window)}, a point every ${m.stepSeconds} s, each a rate over ${m.rateIntervalSeconds / 60} min; refreshes every ${METRICS_REFRESH_MS / 1000} s`
    : describeWindow(range);

  return (
    <Grid container spacing={3}>
      <Grid item xs={12}>
        <InfoCard title="Golden signals" subheader={subheader} action={picker}>
          {metrics.loading && !m && !metrics.error && <Progress />}
          {metrics.error && <MetricsNote>{metricsErrorMessage(metrics.error)}</MetricsNote>}
          {m && !metrics.error && (
            <>
              <ClusterErrors errors={m.errors} />
              {m.workloads.length === 0 && (
                <Typography variant="body2">No workload of {entity.metadata.name} reported requests in this window.</Typography>
              )}
              {m.workloads.map(w => (
                <WorkloadSignals key={`${w.cluster}/${w.namespace}/${w.workload}`} workload={w} from={m.start} to={m.end} />
              ))}
            </>
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <InfoCard title="Traffic" subheader={`Who calls ${entity.metadata.name} and whom it calls, averaged over the ${describeWindow(range)}`}>
          {topology.loading && !topology.value && !topology.error && <Progress />}
          {topology.error && <MetricsNote>{metricsErrorMessage(topology.error)}</MetricsNote>}
          {topology.value && !topology.error && (
            <>
              <ClusterErrors errors={topology.value.errors} />
              <TopologyView topology={topology.value} />
            </>
          )}
        </InfoCard>
      </Grid>
    </Grid>
  );
}
