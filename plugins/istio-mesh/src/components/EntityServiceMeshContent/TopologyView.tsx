import { Table, TableColumn } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import {
  EntityTopology,
  SignalHealth,
  TopologyEdge,
  TopologyWorkloadRef,
  classifyHealth,
} from '@mesh-portal/plugin-istio-mesh-common';
import { SIGNAL_HEALTH_LABEL, SignalHealthBadge, formatRatio, formatRps } from '../metrics/SignalHealthBadge';

export const EDGE_COLORS: Record<SignalHealth, string> = {
  healthy: '#2e7d32',
  degraded: '#ed6c02',
  failing: '#c62828',
  'no-data': '#9e9e9e',
};

export function edgeHealth(edge: TopologyEdge): SignalHealth {
  return classifyHealth({
    requestsPerSecond: edge.requestsPerSecond,
    errorRatio: edge.errorRatio,
    p50Ms: null,
    p90Ms: null,
    p99Ms: null,
  }).health;
}

const key = (r: TopologyWorkloadRef) => `${r.namespace}/${r.workload}`;
const label = (r: TopologyWorkloadRef) =>
  r.workload === 'unknown' ? 'outside the mesh (no sidecar)' : `${r.namespace}/${r.workload}`;

interface Row {
  id: string;
  direction: 'caller' | 'callee';
  edge: TopologyEdge;
  health: SignalHealth;
}

const NODE_W = 210;
const GAP = 70;
const ROW_H = 48;
const NODE_H = 38;
const WIDTH = 3 * NODE_W + 2 * GAP;

function truncate(s: string, max = 30) {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Callers on the left, the entity's workloads in the centre, callees on the right. */
function ClusterDiagram(props: { cluster: string; self: TopologyWorkloadRef[]; rows: Row[] }) {
  const callers = new Map<string, { ref: TopologyWorkloadRef; rps: number }>();
  const callees = new Map<string, { ref: TopologyWorkloadRef; rps: number }>();
  for (const row of props.rows) {
    const side = row.direction === 'caller' ? callers : callees;
    const ref = row.direction === 'caller' ? row.edge.source : row.edge.destination;
    const entry = side.get(key(ref)) ?? { ref, rps: 0 };
    entry.rps += row.edge.requestsPerSecond;
    side.set(key(ref), entry);
  }
  const columns = [[...callers.values()], props.self.map(ref => ({ ref, rps: NaN })), [...callees.values()]];
  const rowsCount = Math.max(1, ...columns.map(c => c.length));
  const height = rowsCount * ROW_H + 8;
  const pos = (column: number, index: number, count: number) => ({
    x: column * (NODE_W + GAP),
    y: 4 + (height - 8 - count * ROW_H) / 2 + index * ROW_H + (ROW_H - NODE_H) / 2,
  });
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((n, i) => at.set(`${c}:${key(n.ref)}`, pos(c, i, col.length))));
  const calls = props.rows
    .map(r => `${label(r.edge.source)} calls ${label(r.edge.destination)} at ${formatRps(r.edge.requestsPerSecond)}, ${formatRatio(r.edge.errorRatio)} 5xx`)
    .join('; ');
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = `Traffic of ${props.self.map(label).join(', ')} in ${props.cluster}: ${plural(callers.size, 'caller')}, ${plural(callees.size, 'callee')}. ${calls}`;
  const markerId = `mesh-arrow-${props.cluster.replace(/[^a-zA-Z0-9-]/g, '')}`;

  return (
    <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} style={{ width: '100%', maxWidth: WIDTH, height: 'auto', display: 'block' }}>
      <defs>
        {Object.entries(EDGE_COLORS).map(([h, color]) => (
          <marker key={h} id={`${markerId}-${h}`} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill={color} />
          </marker>
        ))}
      </defs>
      {props.rows.map(r => {
        const a = r.direction === 'caller' ? at.get(`0:${key(r.edge.source)}`) : at.get(`1:${key(r.edge.source)}`);
        const b = r.direction === 'caller' ? at.get(`1:${key(r.edge.destination)}`) : at.get(`2:${key(r.edge.destination)}`);
        if (!a || !b) return null;
        const x1 = a.x + NODE_W;
        const y1 = a.y + NODE_H / 2;
        const x2 = b.x;
        const y2 = b.y + NODE_H / 2;
        const mid = (x1 + x2) / 2;
        return (
          <path
            key={r.id}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            fill="none"
            stroke={EDGE_COLORS[r.health]}
            strokeWidth={r.health === 'healthy' ? 2 : 3}
            strokeDasharray={r.health === 'no-data' ? '4 3' : undefined}
            markerEnd={`url(#${markerId}-${r.health})`}
            data-testid="topology-edge"
            data-health={r.health}
          />
        );
      })}
      {columns.map((col, c) =>
        col.map(n => {
          const p = at.get(`${c}:${key(n.ref)}`)!;
          const self = c === 1;
          return (
            <g key={`${c}:${key(n.ref)}`} transform={`translate(${p.x},${p.y})`} data-testid={`topology-node-${['caller', 'self', 'callee'][c]}`}>
              <rect width={NODE_W} height={NODE_H} rx={6} fill={self ? '#e3f2fd' : '#fafafa'} stroke={self ? '#1565c0' : '#bdbdbd'} strokeWidth={self ? 2 : 1} />
              <text x={8} y={15} fontSize={12} fontWeight={self ? 600 : 400} fill="#212121">
                {truncate(label(n.ref))}
              </text>
              <text x={8} y={30} fontSize={11} fill="#616161">
                {self ? 'this service' : `${c === 0 ? 'calls at' : 'called at'} ${formatRps(n.rps)}`}
              </text>
            </g>
          );
        }),
      )}
    </svg>
  );
}

const columns: TableColumn<Row>[] = [
  { title: 'Direction', render: r => (r.direction === 'caller' ? 'calls this service' : 'called by this service') },
  { title: 'From', render: r => label(r.edge.source), customSort: (a, b) => label(a.edge.source).localeCompare(label(b.edge.source)), cellStyle: { whiteSpace: 'nowrap' } },
  { title: 'To', render: r => label(r.edge.destination), customSort: (a, b) => label(a.edge.destination).localeCompare(label(b.edge.destination)), cellStyle: { whiteSpace: 'nowrap' } },
  {
    title: 'Requests/s',
    type: 'numeric',
    render: r => formatRps(r.edge.requestsPerSecond),
    customSort: (a, b) => a.edge.requestsPerSecond - b.edge.requestsPerSecond,
  },
  {
    title: '5xx',
    type: 'numeric',
    render: r => formatRatio(r.edge.errorRatio),
    customSort: (a, b) => (a.edge.errorRatio ?? -1) - (b.edge.errorRatio ?? -1),
  },
  { title: 'Health', render: r => <SignalHealthBadge health={r.health} />, customSort: (a, b) => a.health.localeCompare(b.health) },
];

/**
 * Who calls the entity's workloads and whom they call, per cluster, as a diagram (edges
 * coloured by the 5xx ratio, dashed when no request was seen) and the same edges as a table.
 */
export function TopologyView({ topology }: { topology: EntityTopology }) {
  const clusters = [...new Set(topology.nodes.map(n => n.cluster))].sort();
  if (clusters.length === 0) {
    return <Typography variant="body2">No mesh traffic to or from this service in this window.</Typography>;
  }
  return (
    <>
      {clusters.map(cluster => {
        const self = topology.nodes.filter(n => n.cluster === cluster && n.role === 'self');
        const selfKeys = new Set(self.map(key));
        const rows: Row[] = topology.edges
          .filter(e => e.cluster === cluster)
          .flatMap((edge, i): Row[] => {
            const health = edgeHealth(edge);
            const id = `${cluster}:${i}`;
            // Calls among the entity's own workloads are drawn as callees of the caller.
            if (selfKeys.has(key(edge.destination)) && !selfKeys.has(key(edge.source))) return [{ id, direction: 'caller', edge, health }];
            if (selfKeys.has(key(edge.source))) return [{ id, direction: 'callee', edge, health }];
            return [];
          });
        return (
          <Box key={cluster} component="section" mb={3} aria-label={`Traffic in ${cluster}`}>
            <Typography variant="h6" component="h3">
              {cluster}
            </Typography>
            <Typography variant="body2" color="textSecondary" paragraph>
              Edge colour: {(['healthy', 'degraded', 'failing', 'no-data'] as const).map(h => (
                <span key={h} style={{ marginRight: 12 }}>
                  <span style={{ display: 'inline-block', width: 14, height: 3, background: EDGE_COLORS[h], verticalAlign: 'middle', marginRight: 4 }} />
                  {SIGNAL_HEALTH_LABEL[h].toLowerCase()}
                </span>
              ))}
            </Typography>
            <ClusterDiagram cluster={cluster} self={self} rows={rows} />
            <Table<Row>
              title={`Calls in ${cluster} (${rows.length})`}
              options={{ paging: false, search: false, padding: 'dense' }}
              columns={columns}
              data={rows}
            />
          </Box>
        );
      })}
    </>
  );
}
