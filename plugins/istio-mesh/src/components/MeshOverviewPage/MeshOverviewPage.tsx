import {
  Content,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import Box from '@material-ui/core/Box';
import Checkbox from '@material-ui/core/Checkbox';
import FormControl from '@material-ui/core/FormControl';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Alert from '@material-ui/lab/Alert';
import { GoldenSignals, MetricsStatus, OverviewRow } from '@mesh-portal/plugin-istio-mesh-common';
import { useMemo, useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { ClusterSummaryCard } from '../common/ClusterSummaryCard';
import { MetricsNote } from '../metrics/MetricsNote';
import { SignalHealthBadge, SIGNAL_HEALTH_LABEL } from '../metrics/SignalHealthBadge';
import { formatNumber } from '../metrics/scale';

export interface OverviewFilters {
  cluster: string;
  revision: string;
  owner: string;
  driftOnly: boolean;
}

const ALL = '';

/** Applies the overview's filters; exported for tests. */
export function filterRows(rows: OverviewRow[], f: OverviewFilters): OverviewRow[] {
  return rows.filter(
    r =>
      (f.cluster === ALL || r.cluster === f.cluster) &&
      (f.revision === ALL || r.revision === f.revision || r.sidecarRevisions.includes(f.revision)) &&
      (f.owner === ALL || r.owner === f.owner) &&
      (!f.driftOnly || r.driftedPods > 0),
  );
}

const columns: TableColumn<OverviewRow>[] = [
  {
    title: 'Entity',
    field: 'name',
    highlight: true,
    // A component name broken mid-word ("checko/ut") is harder to scan than a wider column.
    cellStyle: { whiteSpace: 'nowrap' },
    render: row => <EntityRefLink entityRef={row.entityRef} defaultKind="component" />,
  },
  { title: 'Owner', field: 'owner', emptyValue: '—' },
  {
    title: 'Cluster',
    field: 'cluster',
    render: row => <RouterLink to={`clusters/${encodeURIComponent(row.cluster)}`}>{row.cluster}</RouterLink>,
  },
  { title: 'Namespace', field: 'kubernetesNamespace' },
  { title: 'Revision', field: 'revision', emptyValue: 'not injected' },
  { title: 'Sidecars on', render: row => row.sidecarRevisions.join(', ') || 'none', customSort: (a, b) => a.sidecarRevisions.join().localeCompare(b.sidecarRevisions.join()) },
  { title: 'Pods', field: 'pods', type: 'numeric' },
  { title: 'Drifted', field: 'driftedPods', type: 'numeric' },
  { title: 'Phase', field: 'phase' },
];

/** Rows without a value sort below every number, in both directions' first click. */
const bySignal = (field: keyof GoldenSignals) => (a: OverviewRow, b: OverviewRow) =>
  (a.signals?.[field] ?? -1) - (b.signals?.[field] ?? -1);
const HEALTH_ORDER = ['no-data', 'healthy', 'degraded', 'failing'];

/** A number without its unit (the header has it), so 13 columns fit a laptop screen. */
const bare = (v: number | null | undefined, scale = 1) => (v === null || v === undefined ? '—' : formatNumber(v * scale));
const nowrap = { whiteSpace: 'nowrap' } as const;

/** Golden-signal columns, shown whenever metrics are configured. */
export const signalColumns: TableColumn<OverviewRow>[] = [
  { title: 'Req/s', type: 'numeric', cellStyle: nowrap, render: row => bare(row.signals?.requestsPerSecond), customSort: bySignal('requestsPerSecond') },
  { title: '5xx %', type: 'numeric', cellStyle: nowrap, render: row => bare(row.signals?.errorRatio, 100), customSort: bySignal('errorRatio') },
  { title: 'p99 ms', type: 'numeric', cellStyle: nowrap, render: row => bare(row.signals?.p99Ms), customSort: bySignal('p99Ms') },
  {
    title: 'Health',
    cellStyle: nowrap,
    render: row => (row.signals ? <SignalHealthBadge health={row.signals.health} /> : '—'),
    customSort: (a, b) => HEALTH_ORDER.indexOf(a.signals?.health ?? '') - HEALTH_ORDER.indexOf(b.signals?.health ?? ''),
    customFilterAndSearch: (term, row) => !!row.signals && SIGNAL_HEALTH_LABEL[row.signals.health].toLowerCase().includes(String(term).toLowerCase()),
  },
];

// Next to the revision: whether the workloads stay healthy is what a revision move risks.
const revisionIndex = columns.findIndex(c => c.title === 'Revision') + 1;
// Thirteen columns fit beside the sidebar at 1400 px only with half the cells' side padding.
const tight = { paddingLeft: 8, paddingRight: 8 };
const withSignals = [...columns.slice(0, revisionIndex), ...signalColumns, ...columns.slice(revisionIndex)].map(c => ({
  ...c,
  cellStyle: { ...tight, ...(c.cellStyle as object) },
  headerStyle: { ...tight, ...c.headerStyle },
}));

/** The one line shown when the golden-signal columns are empty or partly empty. */
export function metricsNote(metrics: MetricsStatus | undefined): string | undefined {
  if (!metrics || metrics.status === 'ok') return undefined;
  const fallback = {
    unconfigured: 'metrics are not configured (istioMesh.metrics in app-config).',
    unavailable: 'no cluster\'s Prometheus answered.',
    partial: 'some clusters\' Prometheus did not answer.',
  }[metrics.status];
  return `${metrics.status === 'partial' ? 'Some golden signals are missing' : 'Golden signals unavailable'}: ${metrics.message ?? fallback}`;
}

function FilterSelect(props: { label: string; value: string; options: string[]; onChange: (v: string) => void }) {
  const id = `mesh-filter-${props.label.toLowerCase()}`;
  return (
    <FormControl variant="outlined" size="small" style={{ minWidth: 160 }}>
      <InputLabel id={id}>{props.label}</InputLabel>
      <Select
        labelId={id}
        label={props.label}
        value={props.value}
        onChange={e => props.onChange(e.target.value as string)}
      >
        <MenuItem value={ALL}>All</MenuItem>
        {props.options.map(o => (
          <MenuItem key={o} value={o}>
            {o}
          </MenuItem>
        ))}
      </Select>
    </FormControl>
  );
}

/** Every meshed component and cluster at a glance. */
export function MeshOverviewPage() {
  const api = useApi(istioMeshApiRef);
  const { value, loading, error } = useAsync(() => api.getOverview(), [api]);
  const [filters, setFilters] = useState<OverviewFilters>({ cluster: ALL, revision: ALL, owner: ALL, driftOnly: false });
  const rows = useMemo(() => (value ? filterRows(value.rows, filters) : []), [value, filters]);
  const options = useMemo(() => {
    const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].sort();
    const all = value?.rows ?? [];
    return {
      clusters: uniq(all.map(r => r.cluster)),
      revisions: uniq(all.flatMap(r => [r.revision, ...r.sidecarRevisions])),
      owners: uniq(all.map(r => r.owner)),
    };
  }, [value]);

  if (loading) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!value) return null;
  const note = metricsNote(value.metrics);
  const showSignals = !!value.metrics && value.metrics.status !== 'unconfigured';

  return (
    <Content>
      <Grid container spacing={3}>
        {value.errors.map(e => (
          <Grid item xs={12} key={`error-${e.cluster}`}>
            <Alert severity="error">
              Could not read cluster {e.cluster}: {e.error.message}
            </Alert>
          </Grid>
        ))}
        {value.clusters.map(c => (
          <Grid item xs={12} md={6} lg={4} key={c.cluster}>
            <ClusterSummaryCard cluster={c} to={`clusters/${encodeURIComponent(c.cluster)}`} />
          </Grid>
        ))}
        <Grid item xs={12}>
          {note && <Box mb={2}><MetricsNote severity={value.metrics?.status === 'unconfigured' ? 'info' : 'warning'}>{note}</MetricsNote></Box>}
          <Box display="flex" flexWrap="wrap" alignItems="center" style={{ gap: 16 }} mb={2}>
            <FilterSelect label="Cluster" value={filters.cluster} options={options.clusters} onChange={cluster => setFilters(f => ({ ...f, cluster }))} />
            <FilterSelect label="Revision" value={filters.revision} options={options.revisions} onChange={revision => setFilters(f => ({ ...f, revision }))} />
            <FilterSelect label="Owner" value={filters.owner} options={options.owners} onChange={owner => setFilters(f => ({ ...f, owner }))} />
            <FormControlLabel
              control={<Checkbox checked={filters.driftOnly} onChange={e => setFilters(f => ({ ...f, driftOnly: e.target.checked }))} />}
              label="Drifted only"
            />
          </Box>
          <Table<OverviewRow>
            title={`Meshed components (${rows.length})`}
            options={{ paging: true, pageSize: 25, pageSizeOptions: [25, 50, 100], emptyRowsWhenPaging: false, search: true, padding: 'dense' }}
            columns={showSignals ? withSignals : columns}
            data={rows}
          />
        </Grid>
      </Grid>
    </Content>
  );
}
