/**
 * The dashboard at /dashboard: server-rendered pages (hono/jsx, src/dashboard/)
 * over the same data as the API: subnets and ranked miners, a compare page
 * (its script calls POST /v1/compare with the user's API key), the
 * leaderboard with inline SVG charts, and key usage for admins (ADMIN_TOKEN
 * login → httpOnly session cookie). No external asset, no inline script or
 * style: a strict Content-Security-Policy backs up the escaping of every
 * miner-provided string.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { csrf } from 'hono/csrf';
import { requireSnapshot } from '../src/chain/require-snapshot.js';
import { AdminSessions } from '../src/dashboard/admin-session.js';
import { ComparePage, type CompareTargetGroup } from '../src/dashboard/compare-page.js';
import { COMPARE_JS } from '../src/dashboard/compare-js.js';
import { DASHBOARD_CSS } from '../src/dashboard/dashboard-css.js';
import { KeysPage, type KeyUsageRow } from '../src/dashboard/keys-page.js';
import { LeaderboardPage, type LeaderboardSubnet } from '../src/dashboard/leaderboard-page.js';
import { LoginPage } from '../src/dashboard/login-page.js';
import { SubnetsPage, type SubnetApiView, type SubnetMinersView } from '../src/dashboard/subnets-page.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { withUids } from '../src/leaderboard/row-uids.js';
import { parseWindow } from '../src/leaderboard/window.js';
import { describeRoute, type RouteDoc } from '../src/openapi/describe-route.js';
import { minerBlendOf, minerHealthOf } from '../src/router/miner-views.js';
import { DEFAULT_LEADERBOARD_WINDOW } from './leaderboard.js';

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header('content-security-policy', DASHBOARD_CSP);
  c.header('x-content-type-options', 'nosniff');
  c.header('x-frame-options', 'DENY');
  c.header('referrer-policy', 'no-referrer');
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};

const WINDOWS = ['1h', '6h', '24h', '7d'];

/** Every dashboard route is in the OpenAPI document too, as what it is: a page, a form post, an asset. */
const page = (summary: string, auth: RouteDoc['auth'] = 'public') => describeRoute({ summary, tags: ['Dashboard'], auth, responses: { 200: { description: 'HTML page', html: true } } });
const formPost = (summary: string) =>
  describeRoute({ summary, tags: ['Dashboard'], auth: 'public', responses: { 303: { description: 'Redirect to the next page' } }, errors: [403] });
const asset = (summary: string) => describeRoute({ summary, tags: ['Dashboard'], auth: 'public', responses: { 200: { description: summary, text: true } } });
const MAX_KEYS_SHOWN = 200;

export function dashboardRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  const sessions = new AdminSessions(gw.store, gw.config.ADMIN_TOKEN);
  for (const path of ['/dashboard', '/dashboard/*']) {
    app.use(path, securityHeaders);
    // Form posts (login, logout) only from the dashboard's own pages.
    app.use(path, csrf());
  }

  app.get('/dashboard/assets/dashboard.css', asset('The dashboard stylesheet'), (c) =>
    c.body(DASHBOARD_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=300' }),
  );
  app.get('/dashboard/assets/compare.js', asset("The compare page's script"), (c) =>
    c.body(COMPARE_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' }),
  );

  // Subnets served by their own API need no snapshot; miner subnets do.
  const isApi = (netuid: number) => gw.providerFor(netuid).source === 'config';
  const snapshotFor = () => (gw.catalog.netuids.some(isApi) ? gw.metagraph.current() : requireSnapshot(gw.metagraph));

  app.get('/dashboard', page('Dashboard: subnets with their ranked miners, or their own API, with health and the snapshot block'), async (c) => {
    const snapshot = snapshotFor();
    const subnets = gw.catalog.netuids.flatMap((netuid): Array<SubnetMinersView | SubnetApiView> => {
      if (isApi(netuid)) {
        const provider = gw.providerFor(netuid);
        const upstream = provider.upstreams(undefined)[0];
        return [{ kind: 'api', netuid, provider: provider.kind, models: gw.catalog.modelIds(netuid, null), health: upstream ? gw.reliability.health.view(upstream.id) : null }];
      }
      const subnet = snapshot?.subnets.get(netuid);
      if (!subnet) return [];
      const blend = minerBlendOf(gw, subnet);
      return [{ kind: 'miners', subnet, healthOf: minerHealthOf(gw, subnet).of, blendOf: blend ? blend.of : null }];
    });
    return c.html(SubnetsPage({ admin: await sessions.isAdmin(c), snapshot, status: gw.metagraph.status(), subnets }));
  });

  app.get('/dashboard/compare', page('Dashboard: compare answers side by side as they arrive'), async (c) => {
    const snapshot = snapshotFor();
    // A subnet API offers its models; a miner subnet its miners. A miner subnet without a model list can only be
    // compared by naming a model: the API, not this form.
    const groups = gw.catalog.netuids.flatMap((netuid): CompareTargetGroup[] => {
      if (isApi(netuid)) return [{ kind: 'api', netuid, models: gw.catalog.modelIds(netuid, null) }];
      const subnet = snapshot?.subnets.get(netuid);
      return subnet && gw.catalog.modelIds(netuid, snapshot ?? null).length > 0 ? [{ kind: 'miners', netuid, miners: subnet.ranked.map((m) => ({ uid: m.neuron.uid, hotkey: m.neuron.hotkey })) }] : [];
    });
    const judges = gw.catalog.list(snapshot).map((m) => m.id);
    return c.html(ComparePage({ admin: await sessions.isAdmin(c), groups, judges }));
  });

  app.get('/dashboard/leaderboard', page('Dashboard: leaderboard with inline SVG charts'), async (c) => {
    const windowText = c.req.query('window') || DEFAULT_LEADERBOARD_WINDOW;
    const parsed = parseWindow(windowText);
    const window = typeof parsed === 'string' ? (parseWindow(DEFAULT_LEADERBOARD_WINDOW) as Exclude<typeof parsed, string>) : parsed;
    const selected = Number(c.req.query('netuid'));
    const single = gw.catalog.netuids.includes(selected) ? selected : null;
    let subnets: LeaderboardSubnet[] = [];
    let truncated = false;
    let error = typeof parsed === 'string' ? parsed : null;
    try {
      // Like GET /v1/leaderboard: one subnet, or the served ones that had comparisons (bounded).
      const board = single === null ? await gw.leaderboard.readSubnets(gw.catalog.netuids, window) : { netuids: [single], truncated: false, rows: await gw.leaderboard.read(single, window) };
      truncated = board.truncated;
      const rows = withUids(board.rows, gw.metagraph.current());
      subnets = board.netuids.map((netuid) => ({ netuid, rows: rows.filter((r) => r.netuid === netuid) }));
    } catch {
      error = 'The leaderboard store is unreachable right now.';
    }
    return c.html(
      LeaderboardPage({
        admin: await sessions.isAdmin(c),
        window: window.text,
        windows: WINDOWS.includes(window.text) ? WINDOWS : [...WINDOWS, window.text],
        netuids: gw.catalog.netuids,
        selected: single,
        subnets,
        truncated,
        error,
      }),
    );
  });

  app.get('/dashboard/keys', page('Dashboard: API keys and their usage (admin session; else a redirect to the login)'), async (c) => {
    if (!(await sessions.isAdmin(c))) return c.redirect('/dashboard/login', 303);
    const records = (await gw.keys.list()).sort((a, b) => b.createdAt - a.createdAt);
    const shown = records.slice(0, MAX_KEYS_SHOWN);
    const rows: KeyUsageRow[] = await Promise.all(
      shown.map(async (record) => {
        const usage = await gw.metering.usage(record);
        return {
          id: record.id,
          name: record.name,
          createdAt: new Date(record.createdAt).toISOString(),
          revoked: record.revokedAt !== null,
          billing: usage.billing,
          requests: usage.totals.requests,
          promptTokens: usage.totals.prompt_tokens,
          completionTokens: usage.totals.completion_tokens,
          costMicroUsd: usage.totals.cost_micro_usd,
          creditMicroUsd: usage.credits?.available_micro_usd ?? null,
          rpm: record.rpm,
          tpm: record.tpm,
        };
      }),
    );
    return c.html(KeysPage({ rows, truncated: records.length > shown.length }));
  });

  app.get('/dashboard/login', page('Dashboard: admin login form'), (c) => c.html(LoginPage({ error: null, enabled: sessions.enabled })));

  app.post('/dashboard/login', formPost('Dashboard login: ADMIN_TOKEN (form field `token`) for an httpOnly session cookie; 401 page when wrong'), limitBody(4 * 1024), async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    if (await sessions.login(c, token)) return c.redirect('/dashboard/keys', 303);
    return c.html(LoginPage({ error: sessions.enabled ? 'That is not the admin token.' : null, enabled: sessions.enabled }), 401);
  });

  app.post('/dashboard/logout', formPost('Dashboard logout: ends the admin session'), async (c) => {
    await sessions.logout(c);
    return c.redirect('/dashboard', 303);
  });
  return app;
}
