/** @jsxImportSource hono/jsx */
/**
 * A horizontal bar chart as inline SVG: one row per label, one or two bars
 * per row (e.g. p50 and p90). Drawn on the server, so it needs no script and
 * no chart library, and works offline.
 */

export interface BarRow {
  readonly label: string;
  /** The main bar; null draws no bar and shows "-". */
  readonly value: number | null;
  /** A second, lighter bar behind the first (e.g. p90 behind p50). */
  readonly back?: number | null;
  readonly text: string;
}

const WIDTH = 640;
const LABEL_W = 190;
const TEXT_W = 90;
const ROW_H = 24;

export function BarChart(props: { readonly title: string; readonly rows: readonly BarRow[]; readonly max: number; readonly id?: string }) {
  const plot = WIDTH - LABEL_W - TEXT_W;
  const height = props.rows.length * ROW_H + 8;
  const scale = (v: number) => Math.max(1, Math.round((Math.min(v, props.max) / (props.max || 1)) * plot));
  return (
    <svg class="chart" id={props.id} viewBox={`0 0 ${WIDTH} ${height}`} width={WIDTH} height={height} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <line class="axis" x1={LABEL_W} y1="0" x2={LABEL_W} y2={height} />
      {props.rows.map((row, i) => {
        const y = 4 + i * ROW_H;
        return (
          <g>
            <text x={LABEL_W - 8} y={y + 15} text-anchor="end">
              {row.label}
            </text>
            {row.back != null && <rect class="bar p90" x={LABEL_W} y={y + 3} width={scale(row.back)} height={ROW_H - 8} />}
            {row.value != null && <rect class="bar" x={LABEL_W} y={y + 6} width={scale(row.value)} height={ROW_H - 14} />}
            <text x={WIDTH - TEXT_W + 6} y={y + 15} class="muted">
              {row.text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
