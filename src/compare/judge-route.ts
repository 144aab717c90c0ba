/**
 * Where a comparison's judge may go: never to an upstream whose answer it
 * grades, or a miner could grade itself. Checked twice:
 *
 * - before anything is sent: the judge's model must reach some upstream that
 *   cannot be one of the compared. Pinned targets name their miners; a
 *   target the router picks for takes one upstream, which may be any of its
 *   candidates, so each such target that could land on one of the judge's
 *   upstreams is counted as taking one. If nothing would be left, the
 *   comparison is refused with a 400 naming `judge`.
 * - when the judge is called: the upstreams that actually answered (by id,
 *   and by hotkey, since one operator's hotkey may mine on several subnets)
 *   are excluded from its route.
 *
 * In private mode the judge, who reads every answer, goes to private subnets
 * only, like the targets: a judge model without one is refused up front
 * (503 no_private_subnet naming `judge`), not after every target was sent and billed.
 */
import type { Upstream } from '../../providers/provider.js';
import type { ModelTarget } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot } from '../chain/snapshot.js';
import { GatewayError, invalidRequest } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { privateTargets } from '../router/private-routing.js';
import { isExcluded, type ExcludedUpstreams } from '../router/route-plan.js';
import type { EntryMiner } from './run-target.js';
import type { PlannedTarget } from './targets.js';

/** Every routable upstream of the candidate subnets. */
function upstreamsOf(gw: Gateway, targets: readonly ModelTarget[], snapshot: MetagraphSnapshot | null): Upstream[] {
  const netuids = new Set(targets.map((t) => t.netuid));
  return [...netuids].flatMap((netuid) => {
    const provider = gw.providerFor(netuid);
    const subnet = snapshot?.subnets.get(netuid);
    return provider.source === 'metagraph' && !subnet ? [] : [...provider.upstreams(subnet)];
  });
}

const sameUpstream = (a: Upstream, b: Upstream) => a.id === b.id || (a.hotkey !== null && a.hotkey === b.hotkey);

/** A target's candidate subnets as a request in this mode would be routed: private subnets only in private mode. */
function candidatesOf(gw: Gateway, model: string, snapshot: MetagraphSnapshot | null, isPrivate: boolean): readonly ModelTarget[] {
  const { targets } = gw.catalog.resolve(model, snapshot);
  return isPrivate ? targets.filter((t) => gw.catalog.isPrivate(t.netuid)) : targets;
}

/** The judge's candidate subnets: 404 for an unknown model, 503 naming `judge` when private mode leaves none. */
function judgeCandidates(gw: Gateway, judge: string, snapshot: MetagraphSnapshot | null, isPrivate: boolean): readonly ModelTarget[] {
  try {
    const { targets } = gw.catalog.resolve(judge, snapshot);
    return isPrivate ? privateTargets(gw.catalog, targets, judge) : targets;
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    const code = err.status === 404 ? 'judge_not_found' : err.code;
    throw new GatewayError(err.status, `judge: ${err.message}`, err.type, code, 'judge', err.headers);
  }
}

/**
 * Throws the 404 for an unknown judge model, the 503 when private mode
 * leaves it no subnet, and the 400 when every upstream it could reach may be
 * one it grades.
 */
export function checkJudgeRoute(gw: Gateway, judge: string, plans: readonly PlannedTarget[], snapshot: MetagraphSnapshot | null, isPrivate: boolean): void {
  const candidates = upstreamsOf(gw, judgeCandidates(gw, judge, snapshot, isPrivate), snapshot);
  // Nothing routable right now is the judge's own failure when it is called, not a conflict with the targets.
  if (candidates.length === 0) return;
  const pinned: ExcludedUpstreams = { ids: new Set(), hotkeys: new Set(plans.flatMap((p) => (p.pinnedMiner ? [p.pinnedMiner.hotkey] : []))) };
  const free = candidates.filter((u) => !isExcluded(pinned, u));
  const picked = plans.filter(
    (p) => p.pinnedMiner === null && upstreamsOf(gw, candidatesOf(gw, p.model, snapshot, isPrivate), snapshot).some((u) => free.some((f) => sameUpstream(u, f))),
  );
  if (free.length > picked.length) return;
  throw invalidRequest(
    `judge: every upstream that can serve "${judge}" (${candidates.length}) may be one of the compared targets, and a judge never grades its own answer; choose a judge model served by other miners or another subnet`,
    'judge',
    'judge_is_contestant',
  );
}

/** What the judge's route leaves out: the upstreams whose answers it grades. */
export function contestantsOf(miners: ReadonlyArray<EntryMiner | null>): ExcludedUpstreams {
  const ids = new Set<string>();
  const hotkeys = new Set<string>();
  for (const miner of miners) {
    if (miner?.upstream) ids.add(miner.upstream);
    if (miner?.hotkey) hotkeys.add(miner.hotkey);
  }
  return { ids, hotkeys };
}
