/**
 * GET /v1/leaderboard?netuid=&window=: how each miner (hotkey) and model of
 * a subnet did in scored comparisons over a rolling window: count, mean
 * score, win rate, latency percentiles, error rate. Aggregates only, no
 * prompts or answers, so it is public like the ranked snapshot. By default
 * every stored comparison counts; `trusted=true` shows only those run by
 * `trusted_scorer` keys, which is what routing reads (any key can compare
 * with checks and a rubric of its choosing).
 */
import { Hono } from 'hono';
import { GatewayError, invalidRequest, notFound } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import type { BoardRead } from '../src/leaderboard/leaderboard.js';
import { withUids } from '../src/leaderboard/row-uids.js';
import { parseWindow } from '../src/leaderboard/window.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { LeaderboardSchema } from '../src/openapi/response-schemas.js';
import { z } from 'zod';

export const DEFAULT_LEADERBOARD_WINDOW = '24h';

export function leaderboardRoutes(gw: Gateway) {
  const doc = describeRoute({
    summary: 'Leaderboard: scored comparisons per subnet, model and miner over a rolling window',
    tags: ['Compare'],
    auth: 'public',
    query: {
      netuid: { description: 'One subnet (default: the served subnets that had comparisons, at most 16; `truncated` says when there are more)', schema: z.string().regex(/^\d+$/) },
      window: { description: 'Rolling window, 5m to 7d, e.g. 1h, 24h (default), 7d', schema: z.string().regex(/^\d{1,4}[mhd]$/) },
      trusted: { description: '`true`: only comparisons run by trusted-scorer keys (what blend and the `quality` policy route on); default `false`: all', schema: z.enum(['true', 'false']) },
    },
    responses: { 200: { description: 'One row per subnet, model and miner hotkey, best first', json: { name: 'Leaderboard', schema: LeaderboardSchema } } },
    errors: [400, 404, 503],
  });
  return new Hono<GatewayEnv>().get('/v1/leaderboard', doc, async (c) => {
    // 1. Which subnet (default: every served one with comparisons) and which window (400 names the parameter).
    const netuidText = c.req.query('netuid');
    let netuid: number | null = null;
    if (netuidText !== undefined) {
      // Decimal digits only: Number() would also take "1e1", "0x10" or " 4 ".
      netuid = /^\d{1,5}$/.test(netuidText) ? Number(netuidText) : -1;
      if (netuid < 0 || netuid > 65535) throw invalidRequest(`netuid must be a subnet number (decimal digits), got "${netuidText}"`, 'netuid');
      if (!gw.catalog.netuids.includes(netuid)) throw notFound(`subnet ${netuid} is not served by this gateway`, 'subnet_not_found');
    }
    const window = parseWindow(c.req.query('window') ?? DEFAULT_LEADERBOARD_WINDOW);
    if (typeof window === 'string') throw invalidRequest(`window: ${window}`, 'window');
    const trustedText = c.req.query('trusted') ?? 'false';
    if (trustedText !== 'true' && trustedText !== 'false') throw invalidRequest(`trusted must be true or false, got "${trustedText}"`, 'trusted');
    const view = trustedText === 'true' ? 'trusted' : 'all';

    // 2. The rows from the store's time buckets, each subnet's window read at most once per few seconds (503 while the store is unreachable).
    let board: BoardRead;
    try {
      board = netuid === null ? await gw.leaderboard.readSubnets(gw.catalog.netuids, window, view) : { netuids: [netuid], truncated: false, rows: await gw.leaderboard.read(netuid, window, view) };
    } catch {
      throw new GatewayError(503, 'the leaderboard store is unreachable; retry shortly', 'server_error', 'store_unavailable');
    }

    // 3. Each hotkey's current uid, from the snapshot (null once it left the subnet, and for a subnet's own API).
    return c.json({
      object: 'list',
      window: window.text,
      trusted: view === 'trusted',
      bucket_s: window.resolution.bucketMs / 1000,
      subnets: board.netuids,
      truncated: board.truncated,
      data: withUids(board.rows, gw.metagraph.current()),
    });
  });
}
