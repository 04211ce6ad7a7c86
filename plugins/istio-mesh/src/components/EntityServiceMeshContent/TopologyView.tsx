import { Table, TableColumn } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import {
  EntityTopology,
  HttpTopologyEdge,
  SignalHealth,
  TcpTopologyEdge,
  TopologyEdge,
  TopologyWorkloadRef,
  classifyHealth,
  topologyRefKey,
} from '@mesh-portal/plugin-istio-mesh-common';
import { SIGNAL_HEALTH_LABEL, SignalHealthBadge, formatRatio, formatRps } from '../metrics/SignalHealthBadge';
import { formatNumber } from '../metrics/scale';

export const EDGE_COLORS: Record<SignalHealth, string> = {
  healthy: '#2e7d32',
  degraded: '#ed6c02',
  failing: '#c62828',
  'no-data': '#9e9e9e',
};

/** TCP has no error signal, so its edges get one colour of their own rather than a health. */
export const TCP_EDGE_COLOR = '#5c6bc0';

export function edgeHealth(edge: HttpTopologyEdge): SignalHealth {
  return classifyHealth({
    requestsPerSecond: edge.requestsPerSecond,
    errorRatio: edge.errorRatio,
    p50Ms: null,
    p90Ms: null,
    p99Ms: null,
  }).health;
}

const key = topologyRefKey;

/**
 * An unknown destination addressed by a cluster-local Service name is inside the cluster:
 * its pods have no sidecar, or none answered (Envoy's "no healthy upstream"). Any other
 * host is outside the mesh, e.g. an Azure database. AKS's cluster domain is always
 * `cluster.local`.
 */
const CLUSTER_LOCAL = /\.svc\.cluster\.local$/;

const label = (r: TopologyWorkloadRef) => {
  if (r.workload !== 'unknown') return `${r.namespace}/${r.workload}`;
  if (!r.service) return 'outside the mesh (no sidecar)';
  return `${r.service} (${CLUSTER_LOCAL.test(r.service) ? 'no sidecar answered' : 'outside the mesh'})`;
};

const BYTE_UNITS = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];

/** A byte rate in binary units, e.g. `512 B/s`, `8.0 KiB/s`. */
export function formatBytesPerSecond(v: number): string {
  let n = v;
  let unit = 0;
  while (Math.abs(n) >= 1024 && unit < BYTE_UNITS.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${formatNumber(n)} B/s` : `${n.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** What a TCP edge carried, from the caller's side: out (to the destination), back, connections. */
function tcpTraffic(edge: TcpTopologyEdge, connections: string): string {
  const t = edge.tcp;
  return `${formatBytesPerSecond(t.requestBytesPerSecond)} out, ${formatBytesPerSecond(t.responseBytesPerSecond)} back, ${formatNumber(t.connectionsOpenedPerSecond)} ${connections}`;
}

function describeEdge(edge: TopologyEdge): string {
  if (edge.protocol === 'tcp') return `${label(edge.source)} connects to ${label(edge.destination)} over TCP: ${tcpTraffic(edge, 'connections/s')}`;
  return `${label(edge.source)} calls ${label(edge.destination)} at ${formatRps(edge.requestsPerSecond)}, ${formatRatio(edge.errorRatio)} 5xx`;
}

interface Row {
  id: string;
  direction: 'caller' | 'callee';
  edge: TopologyEdge;
  /** `null` for TCP: no error signal to judge by. */
  health: SignalHealth | null;
}

/** A neighbour's traffic with the entity, HTTP and TCP summed separately. */
interface Neighbour {
  ref: TopologyWorkloadRef;
  rps: number;
  http: boolean;
  tcpBytes: number;
  tcp: boolean;
}

/** A node's second line, e.g. `calls at 2 req/s`, `TCP, 10.0 KiB/s` or `called at 2 req/s + TCP 10.0 KiB/s`. */
function neighbourTraffic(n: Neighbour, verb: 'calls' | 'called'): string {
  const tcp = formatBytesPerSecond(n.tcpBytes);
  if (!n.http) return `TCP, ${tcp}`;
  return `${verb} at ${formatRps(n.rps)}${n.tcp ? ` + TCP ${tcp}` : ''}`;
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
  const callers = new Map<string, Neighbour>();
  const callees = new Map<string, Neighbour>();
  for (const row of props.rows) {
    const side = row.direction === 'caller' ? callers : callees;
    const ref = row.direction === 'caller' ? row.edge.source : row.edge.destination;
    const entry = side.get(key(ref)) ?? { ref, rps: 0, http: false, tcpBytes: 0, tcp: false };
    if (row.edge.protocol === 'tcp') {
      entry.tcp = true;
      entry.tcpBytes += row.edge.tcp.requestBytesPerSecond + row.edge.tcp.responseBytesPerSecond;
    } else {
      entry.http = true;
      entry.rps += row.edge.requestsPerSecond;
    }
    side.set(key(ref), entry);
  }
  const columns: Array<Array<{ ref: TopologyWorkloadRef; traffic: string }>> = [
    [...callers.values()].map(n => ({ ref: n.ref, traffic: neighbourTraffic(n, 'calls') })),
    props.self.map(ref => ({ ref, traffic: 'this service' })),
    [...callees.values()].map(n => ({ ref: n.ref, traffic: neighbourTraffic(n, 'called') })),
  ];
  const rowsCount = Math.max(1, ...columns.map(c => c.length));
  const height = rowsCount * ROW_H + 8;
  const pos = (column: number, index: number, count: number) => ({
    x: column * (NODE_W + GAP),
    y: 4 + (height - 8 - count * ROW_H) / 2 + index * ROW_H + (ROW_H - NODE_H) / 2,
  });
  const at = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => col.forEach((n, i) => at.set(`${c}:${key(n.ref)}`, pos(c, i, col.length))));
  const calls = props.rows.map(r => describeEdge(r.edge)).join('; ');
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const summary = `Traffic of ${props.self.map(label).join(', ')} in ${props.cluster}: ${plural(callers.size, 'caller')}, ${plural(callees.size, 'callee')}. ${calls}`;
  const markerId = `mesh-arrow-${props.cluster.replace(/[^a-zA-Z0-9-]/g, '')}`;

  return (
    <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={summary} style={{ width: '100%', maxWidth: WIDTH, height: 'auto', display: 'block' }}>
      <defs>
        {Object.entries({ ...EDGE_COLORS, tcp: TCP_EDGE_COLOR }).map(([h, color]) => (
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
        const style = r.health === null ? 'tcp' : r.health;
        return (
          <path
            key={r.id}
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
            fill="none"
            stroke={r.health === null ? TCP_EDGE_COLOR : EDGE_COLORS[r.health]}
            strokeWidth={r.health === 'healthy' || r.health === null ? 2 : 3}
            strokeDasharray={r.health === 'no-data' ? '4 3' : undefined}
            markerEnd={`url(#${markerId}-${style})`}
            data-testid="topology-edge"
            data-protocol={r.edge.protocol}
            data-health={r.health ?? undefined}
          />
        );
      })}
      {columns.map((col, c) =>
        col.map(n => {
          const p = at.get(`${c}:${key(n.ref)}`)!;
          const self = c === 1;
          return (
            <g key={`${c}:${key(n.ref)}`} transform={`translate(${p.x},${p.y})`} data-testid={`topology-node-${['caller', 'self', 'callee'][c]}`}>
              <title>{label(n.ref)}</title>
              {/* Dashed: a peer outside the mesh. */}
              <rect
                width={NODE_W}
                height={NODE_H}
                rx={6}
                fill={self ? '#e3f2fd' : '#fafafa'}
                stroke={self ? '#1565c0' : '#bdbdbd'}
                strokeWidth={self ? 2 : 1}
                strokeDasharray={n.ref.workload === 'unknown' ? '3 2' : undefined}
              />
              <text x={8} y={15} fontSize={12} fontWeight={self ? 600 : 400} fill="#212121">
                {truncate(label(n.ref))}
              </text>
              <text x={8} y={30} fontSize={11} fill="#616161">
                {truncate(n.traffic, 36)}
              </text>
            </g>
          );
        }),
      )}
    </svg>
  );
}

function trafficRate(edge: TopologyEdge): number {
  return edge.protocol === 'tcp' ? edge.tcp.requestBytesPerSecond + edge.tcp.responseBytesPerSecond : edge.requestsPerSecond;
}

const columns: TableColumn<Row>[] = [
  { title: 'Direction', render: r => (r.direction === 'caller' ? 'calls this service' : 'called by this service') },
  { title: 'From', render: r => label(r.edge.source), customSort: (a, b) => label(a.edge.source).localeCompare(label(b.edge.source)), cellStyle: { whiteSpace: 'nowrap' } },
  { title: 'To', render: r => label(r.edge.destination), customSort: (a, b) => label(a.edge.destination).localeCompare(label(b.edge.destination)), cellStyle: { whiteSpace: 'nowrap' } },
  { title: 'Protocol', render: r => r.edge.protocol.toUpperCase(), customSort: (a, b) => a.edge.protocol.localeCompare(b.edge.protocol) },
  {
    title: 'Traffic',
    render: r => (r.edge.protocol === 'tcp' ? tcpTraffic(r.edge, 'conn/s') : formatRps(r.edge.requestsPerSecond)),
    // Requests and bytes do not compare: HTTP first, each by its own rate.
    customSort: (a, b) => a.edge.protocol.localeCompare(b.edge.protocol) || trafficRate(a.edge) - trafficRate(b.edge),
  },
  {
    title: '5xx',
    type: 'numeric',
    render: r => (r.edge.protocol === 'tcp' ? 'n/a' : formatRatio(r.edge.errorRatio)),
    customSort: (a, b) => (a.edge.errorRatio ?? -1) - (b.edge.errorRatio ?? -1),
  },
  {
    title: 'Health',
    cellStyle: { whiteSpace: 'nowrap' },
    render: r => (r.health === null ? 'n/a' : <SignalHealthBadge health={r.health} />),
    customSort: (a, b) => (a.health ?? '').localeCompare(b.health ?? ''),
  },
];

/**
 * Who calls the entity's workloads and whom they call, per cluster, as a diagram (HTTP
 * edges coloured by the 5xx ratio, dashed when no request was seen; TCP edges in a colour
 * of their own, having no error signal) and the same edges as a table.
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
            const health = edge.protocol === 'tcp' ? null : edgeHealth(edge);
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
              <span>
                <span style={{ display: 'inline-block', width: 14, height: 3, background: TCP_EDGE_COLOR, verticalAlign: 'middle', marginRight: 4 }} />
                TCP (no error ratio)
              </span>
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
