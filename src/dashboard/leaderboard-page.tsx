/** @jsxImportSource hono/jsx */
/** /dashboard/leaderboard: GET /v1/leaderboard as tables and inline SVG charts, per subnet. */
import type { LeaderboardRow } from '../leaderboard/leaderboard.js';
import { BarChart } from './bar-chart.js';
import { Layout, percent, shortHotkey } from './layout.js';

export interface LeaderboardSubnet {
  readonly netuid: number;
  readonly rows: ReadonlyArray<LeaderboardRow & { readonly uid: number | null }>;
}

export interface LeaderboardPageProps {
  readonly admin: boolean;
  readonly window: string;
  readonly windows: readonly string[];
  readonly netuids: readonly number[];
  readonly selected: number | null;
  readonly subnets: readonly LeaderboardSubnet[];
  /** More subnets had comparisons than one read covers. */
  readonly truncated: boolean;
  readonly error: string | null;
}

/** A subnet's own API stands on the board under its upstream id ("64/api/chutes") and has no uid. */
const isApiRow = (row: { hotkey: string }) => /^\d+\/api\//.test(row.hotkey);
const who = (row: { uid: number | null; hotkey: string; model: string }) =>
  `${row.uid !== null ? `uid ${row.uid}` : isApiRow(row) ? 'its API' : 'gone'} · ${row.model.replace(/^sn\d+\//, '')}`;

function SubnetBoard({ board }: { board: LeaderboardSubnet }) {
  const rows = board.rows;
  const maxLatency = Math.max(1, ...rows.map((r) => r.latency_ms.p90 ?? r.latency_ms.p50 ?? 0));
  return (
    <section class="panel" data-netuid={String(board.netuid)}>
      <h2>sn{board.netuid}</h2>
      {rows.length === 0 ? (
        <p class="muted">No scored comparison in this window yet.</p>
      ) : (
        <>
          <BarChart
            id={`score-chart-${board.netuid}`}
            title={`Mean score, sn${board.netuid}`}
            max={10}
            rows={rows.map((r) => ({ label: who(r), value: r.mean_score, text: r.mean_score === null ? '-' : `${r.mean_score.toFixed(2)} / 10` }))}
          />
          <BarChart
            id={`latency-chart-${board.netuid}`}
            title={`Latency p50 (dark) and p90 (light), sn${board.netuid}`}
            max={maxLatency}
            rows={rows.map((r) => ({ label: who(r), value: r.latency_ms.p50, back: r.latency_ms.p90, text: r.latency_ms.p50 === null ? '-' : `${r.latency_ms.p50} ms` }))}
          />
          <table>
            <thead>
              <tr>
                <th class="num">uid</th>
                <th>hotkey</th>
                <th>model</th>
                <th class="num">count</th>
                <th class="num">mean score</th>
                <th class="num">win rate</th>
                <th class="num">p50 / p90 / p99</th>
                <th class="num">error rate</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td class="num">{r.uid ?? '-'}</td>
                  <td class="mono" title={r.hotkey}>
                    {shortHotkey(r.hotkey)}
                  </td>
                  <td>{r.model}</td>
                  <td class="num">{r.count}</td>
                  <td class="num">{r.mean_score?.toFixed(2) ?? '-'}</td>
                  <td class="num">{r.win_rate === null ? '-' : `${percent(r.win_rate)} of ${r.contests}`}</td>
                  <td class="num">
                    {r.latency_ms.p50 ?? '-'} / {r.latency_ms.p90 ?? '-'} / {r.latency_ms.p99 ?? '-'} ms
                  </td>
                  <td class="num">{percent(r.error_rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

export function LeaderboardPage(props: LeaderboardPageProps) {
  return (
    <Layout title="Leaderboard" tab="leaderboard" admin={props.admin}>
      <h1>Leaderboard</h1>
      <form method="get" action="/dashboard/leaderboard" class="panel inline">
        <div>
          <label for="netuid">Subnet</label>
          <select id="netuid" name="netuid">
            <option value="">all</option>
            {props.netuids.map((n) => (
              <option value={String(n)} selected={n === props.selected}>
                sn{n}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="window">Window</label>
          <select id="window" name="window">
            {props.windows.map((w) => (
              <option value={w} selected={w === props.window}>
                {w}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show</button>
      </form>
      {props.error && <p class="error">{props.error}</p>}
      {!props.error && props.subnets.length === 0 && <p class="muted">No subnet has a scored comparison yet.</p>}
      {props.truncated && <p class="muted">More subnets have comparisons than one page shows: pick one above.</p>}
      {props.subnets.map((board) => (
        <SubnetBoard board={board} />
      ))}
    </Layout>
  );
}
