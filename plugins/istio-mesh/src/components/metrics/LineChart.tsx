import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { makeStyles, Theme } from '@material-ui/core/styles';
import { KeyboardEvent, MouseEvent, RefObject, useEffect, useMemo, useRef, useState } from 'react';
import { formatClock, formatNumber, niceTicks, timeTicks } from './scale';

/** One line: points in epoch milliseconds; `v: null` is a gap (no data at that step). */
export interface LineSeries {
  name: string;
  points: Array<{ t: number; v: number | null }>;
  color?: string;
  dashed?: boolean;
}

export interface LineChartProps {
  title: string;
  /** Printed after every value ("req/s", "%", "ms"). */
  unit: string;
  series: LineSeries[];
  /** The time window; defaults to the points' extent. */
  from?: number;
  to?: number;
  height?: number;
}

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
export const SERIES_COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** Drawing width before the container is measured (and in jsdom, which has no layout). */
const DEFAULT_WIDTH = 640;

/**
 * The container's width in CSS pixels, so the SVG is drawn 1:1 and its text keeps its
 * size however wide the chart's column is.
 */
function useWidth(ref: RefObject<HTMLElement>): number {
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return undefined;
    const observer = new ResizeObserver(entries => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

// React 16/17 (allowed by the peer range) have no useId.
let nextId = 0;
function useStableId(): string {
  const [id] = useState(() => `mesh-chart-${++nextId}`);
  return id;
}
const MARGIN = { top: 12, right: 16, bottom: 28, left: 56 };

const useStyles = makeStyles((theme: Theme) => ({
  wrapper: { position: 'relative' },
  svg: {
    display: 'block',
    width: '100%',
    height: 'auto',
    '&:focus': { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: 2 },
  },
  axis: { fill: theme.palette.text.secondary, fontSize: 11 },
  grid: { stroke: theme.palette.divider },
  tooltip: {
    position: 'absolute',
    top: 0,
    pointerEvents: 'none',
    background: theme.palette.background.paper,
    border: `1px solid ${theme.palette.divider}`,
    borderRadius: theme.shape.borderRadius,
    boxShadow: theme.shadows[2],
    padding: theme.spacing(0.5, 1),
    fontSize: 12,
    whiteSpace: 'nowrap',
    zIndex: 1,
  },
  legend: {
    display: 'flex',
    flexWrap: 'wrap',
    listStyle: 'none',
    margin: 0,
    padding: 0,
    gap: theme.spacing(2),
    fontSize: 12,
  },
  swatch: { display: 'inline-block', width: 14, height: 3, marginRight: 6, verticalAlign: 'middle' },
  table: {
    borderCollapse: 'collapse',
    fontSize: 12,
    '& th, & td': { padding: theme.spacing(0.25, 1), textAlign: 'right', borderBottom: `1px solid ${theme.palette.divider}` },
    '& caption': { textAlign: 'left', captionSide: 'top', fontWeight: 500 },
  },
}));

function describe(title: string, unit: string, series: LineSeries[], from: number, to: number): string {
  const fmt = (v: number) => `${formatNumber(v)} ${unit}`;
  const parts = series.map(s => {
    const values = s.points.map(p => p.v).filter((v): v is number => v !== null);
    if (values.length === 0) return `${s.name}: no data`;
    return `${s.name}: latest ${fmt(values[values.length - 1])}, min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))}`;
  });
  return `${title}, ${formatClock(from)} to ${formatClock(to)}. ${parts.join('; ')}.`;
}

/** SVG path through the points, broken where a value is missing. */
function linePath(points: LineSeries['points'], x: (t: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p.v === null || !Number.isFinite(p.v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * A small, accessible time-series line chart: axes with ticks and units, a legend, a
 * tooltip on hover and on keyboard focus (arrow keys step through time), and the same
 * numbers as a table on request. No charting library: the lockfile has none and these
 * charts need little.
 */
export function LineChart(props: LineChartProps) {
  const { title, unit, height = 200 } = props;
  const classes = useStyles();
  const id = useStableId();
  const svgRef = useRef<SVGSVGElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);
  const width = useWidth(wrapperRef);
  const [active, setActive] = useState<number | undefined>();
  const [showTable, setShowTable] = useState(false);

  const series = useMemo(
    () => props.series.map((s, i) => ({ ...s, color: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length] })),
    [props.series],
  );
  const times = useMemo(
    () => [...new Set(series.flatMap(s => s.points.map(p => p.t)))].sort((a, b) => a - b),
    [series],
  );
  const lookup = useMemo(
    () => series.map(s => new Map(s.points.map(p => [p.t, p.v] as const))),
    [series],
  );
  const from = props.from ?? times[0] ?? 0;
  const to = props.to ?? times[times.length - 1] ?? from + 1;
  const maxValue = Math.max(0, ...series.flatMap(s => s.points.map(p => p.v ?? 0)).filter(Number.isFinite));
  const yTicks = niceTicks(maxValue);
  const yMax = yTicks[yTicks.length - 1];
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + (to > from ? ((t - from) / (to - from)) * plotW : plotW / 2);
  const y = (v: number) => MARGIN.top + plotH - (v / yMax) * plotH;
  const fmt = (v: number | null | undefined) => (v === null || v === undefined ? 'no data' : `${formatNumber(v)} ${unit}`);
  const hasData = times.length > 0;

  const nearest = (clientX: number) => {
    const svg = svgRef.current;
    if (!svg || times.length === 0) return undefined;
    const rect = svg.getBoundingClientRect();
    const scale = rect.width > 0 ? width / rect.width : 1;
    const px = (clientX - rect.left) * scale;
    let best = 0;
    for (let i = 1; i < times.length; i++) {
      if (Math.abs(x(times[i]) - px) < Math.abs(x(times[best]) - px)) best = i;
    }
    return best;
  };
  const onMouseMove = (e: MouseEvent<SVGSVGElement>) => setActive(nearest(e.clientX));
  const onKeyDown = (e: KeyboardEvent<SVGSVGElement>) => {
    if (times.length === 0) return;
    const last = times.length - 1;
    const current = active ?? last;
    const moves: Record<string, number> = {
      ArrowLeft: Math.max(0, current - 1),
      ArrowRight: Math.min(last, current + 1),
      Home: 0,
      End: last,
    };
    const next = moves[e.key];
    if (e.key === 'Escape') {
      setActive(undefined);
      return;
    }
    if (next !== undefined) {
      e.preventDefault();
      setActive(next);
    }
  };

  const activeT = active !== undefined ? times[active] : undefined;
  const label = hasData ? describe(title, unit, series, from, to) : `${title}: no data in this window.`;

  return (
    <Box>
      <Typography variant="subtitle2" component="h4" id={`${id}-title`}>
        {title} ({unit})
      </Typography>
      <div className={classes.wrapper} ref={wrapperRef}>
        <svg
          ref={svgRef}
          className={classes.svg}
          viewBox={`0 0 ${width} ${height}`}
          role="img"
          aria-label={label}
          tabIndex={hasData ? 0 : undefined}
          onMouseMove={onMouseMove}
          onMouseLeave={() => setActive(undefined)}
          onFocus={() => hasData && setActive(a => a ?? times.length - 1)}
          onBlur={() => setActive(undefined)}
          onKeyDown={onKeyDown}
        >
          {yTicks.map(v => (
            <g key={`y${v}`}>
              <line className={classes.grid} x1={MARGIN.left} x2={width - MARGIN.right} y1={y(v)} y2={y(v)} />
              <text className={classes.axis} x={MARGIN.left - 6} y={y(v)} dy="0.32em" textAnchor="end" data-testid="y-tick">
                {formatNumber(v)}
              </text>
            </g>
          ))}
          <text className={classes.axis} x={12} y={MARGIN.top + plotH / 2} textAnchor="middle" transform={`rotate(-90 12 ${MARGIN.top + plotH / 2})`}>
            {unit}
          </text>
          {timeTicks(from, to, Math.max(2, Math.floor(plotW / 80))).map(t => (
            <text key={`x${t}`} className={classes.axis} x={x(t)} y={height - 8} textAnchor="middle" data-testid="x-tick">
              {formatClock(t)}
            </text>
          ))}
          {series.map(s => (
            <path
              key={s.name}
              d={linePath(s.points, x, y)}
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              strokeDasharray={s.dashed ? '6 4' : undefined}
              data-testid="chart-line"
              data-series={s.name}
              data-points={s.points.filter(p => p.v !== null).length}
            />
          ))}
          {activeT !== undefined && (
            <g data-testid="chart-cursor">
              <line x1={x(activeT)} x2={x(activeT)} y1={MARGIN.top} y2={MARGIN.top + plotH} stroke="#888" strokeDasharray="2 2" />
              {series.map((s, i) => {
                const v = lookup[i].get(activeT);
                return v === null || v === undefined ? null : (
                  <circle key={s.name} cx={x(activeT)} cy={y(v)} r={4} fill={s.color} />
                );
              })}
            </g>
          )}
          {!hasData && (
            <text className={classes.axis} x={MARGIN.left + plotW / 2} y={MARGIN.top + plotH / 2} textAnchor="middle">
              No data in this window
            </text>
          )}
        </svg>
        {activeT !== undefined && (
          <div
            className={classes.tooltip}
            role="status"
            style={{
              left: `${(x(activeT) / width) * 100}%`,
              transform: x(activeT) > width / 2 ? 'translateX(calc(-100% - 8px))' : 'translateX(8px)',
            }}
          >
            <div>
              <strong>{formatClock(activeT)}</strong>
            </div>
            {series.map((s, i) => (
              <div key={s.name}>
                <span className={classes.swatch} style={{ background: s.color }} />
                {s.name}: {fmt(lookup[i].get(activeT))}
              </div>
            ))}
          </div>
        )}
      </div>
      <Box display="flex" alignItems="center" justifyContent="space-between" flexWrap="wrap">
        <ul className={classes.legend} aria-label={`${title} legend`}>
          {series.map(s => (
            <li key={s.name}>
              <span
                className={classes.swatch}
                style={{
                  background: s.dashed ? `repeating-linear-gradient(90deg, ${s.color} 0 6px, transparent 6px 10px)` : s.color,
                }}
              />
              {s.name}
            </li>
          ))}
        </ul>
        {hasData && (
          <Button size="small" onClick={() => setShowTable(v => !v)} aria-expanded={showTable} aria-controls={`${id}-table`}>
            {showTable ? 'Hide data table' : 'Show data table'}
          </Button>
        )}
      </Box>
      {showTable && (
        <Box id={`${id}-table`} maxHeight={240} overflow="auto">
          <table className={classes.table}>
            <caption>
              {title} ({unit})
            </caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                {series.map(s => (
                  <th scope="col" key={s.name}>
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map(t => (
                <tr key={t}>
                  <th scope="row">{formatClock(t)}</th>
                  {series.map((s, i) => {
                    const v = lookup[i].get(t);
                    return <td key={s.name}>{v === null || v === undefined ? '—' : formatNumber(v)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </Box>
      )}
    </Box>
  );
}
