/**
 * The dashboard's stylesheet, served from /dashboard/assets/dashboard.css
 * (the Content-Security-Policy allows no inline styles). A module rather than
 * a file on disk so every runtime (Node, Workers) serves it without file access.
 */
export const DASHBOARD_CSS = String.raw`
:root { --bg: #0f1419; --panel: #182029; --line: #2a3642; --text: #e6edf3; --muted: #8b98a5; --accent: #4fb3ff; --good: #3fb950; --warn: #d29922; --bad: #f85149; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; align-items: center; gap: 24px; padding: 12px 24px; border-bottom: 1px solid var(--line); background: var(--panel); }
header .brand { font-weight: 700; font-size: 16px; color: var(--accent); }
nav { display: flex; gap: 16px; flex: 1; }
nav a, header > a { color: var(--muted); text-decoration: none; padding: 4px 2px; }
nav a.active, nav a:hover { color: var(--text); border-bottom: 2px solid var(--accent); }
main { padding: 20px 24px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 12px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
.panel > h2:first-child { margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; border: 1px solid var(--line); }
.badge.closed, .badge.ok { color: var(--good); border-color: var(--good); }
.badge.half_open, .badge.warn { color: var(--warn); border-color: var(--warn); }
.badge.open, .badge.bad { color: var(--bad); border-color: var(--bad); }
.badge.new { color: var(--muted); }
form.inline { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; }
label { display: block; color: var(--muted); font-size: 12px; margin-bottom: 4px; }
input, select, textarea, button { font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
textarea { width: 100%; min-height: 90px; resize: vertical; }
button { background: var(--accent); color: #04121f; border: none; font-weight: 600; cursor: pointer; }
button.link { background: none; color: var(--muted); padding: 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.targets { display: flex; flex-wrap: wrap; gap: 6px 14px; }
.targets label { display: inline-flex; gap: 6px; align-items: center; color: var(--text); font-size: 13px; margin: 0; }
#results { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; margin-top: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card.winner { border-color: var(--good); box-shadow: 0 0 0 1px var(--good); }
.card.failed { border-color: var(--bad); }
.card h3 { margin: 0 0 4px; font-size: 14px; }
.card .answer { white-space: pre-wrap; word-break: break-word; background: var(--bg); border-radius: 6px; padding: 8px; margin: 8px 0; max-height: 320px; overflow: auto; }
.card .facts { display: flex; flex-wrap: wrap; gap: 4px 12px; color: var(--muted); font-size: 12px; }
.card .score { font-size: 22px; font-weight: 700; }
.error { color: var(--bad); }
.status { margin-top: 10px; color: var(--muted); }
svg.chart text { fill: var(--text); font-size: 11px; }
svg.chart .axis { stroke: var(--line); }
svg.chart .bar { fill: var(--accent); }
svg.chart .bar.p90 { fill: var(--warn); opacity: .6; }
svg.chart .muted { fill: var(--muted); }
`;
