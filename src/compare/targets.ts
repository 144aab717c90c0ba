/**
 * Turns a comparison's `targets` (or `top_n`) into what each entry runs: a
 * model id for runCompletion and, for a pinned miner, its uid. Everything
 * here is checked before anything is sent, so a typo costs nothing:
 *
 *   auto, <alias>, sn4/<model>   the router picks, as for any request
 *   sn4                          the subnet's first model, the router picks the miner (or it is the subnet's API)
 *   sn4/uid:12, sn4/<model>/uid:12   that miner
 *
 * A subnet served by its own API has no miners: `sn64` and `sn64/<model>`
 * are its targets, and naming a miner of it (or taking its top_n) is a 400
 * saying so. Miner targets need the metagraph snapshot; API targets do not.
 * top_n without `subnet` takes the one subnet with miners, if there is one.
 */
import type { Upstream } from '../../providers/provider.js';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot, SubnetSnapshot } from '../chain/snapshot.js';
import { GatewayError, invalidRequest, noRoutableMiner } from '../errors.js';

export interface PlannedTarget {
  /** As the caller wrote it (or `sn4/uid:12` for a top_n pick). */
  readonly target: string;
  /** The model id runCompletion resolves. */
  readonly model: string;
  readonly pinnedUids: readonly number[] | null;
  /** The pinned miner, so an entry whose miner failed before answering is still counted against it. */
  readonly pinnedMiner: { readonly netuid: number; readonly uid: number; readonly hotkey: string } | null;
}

export interface TargetContext {
  readonly catalog: ModelCatalog;
  /** null before the first snapshot: subnets served by their own API need none. */
  readonly snapshot: MetagraphSnapshot | null;
  /** The snapshot, or the 503 naming the source (targets that name miners need it). */
  readonly requireSnapshot: () => MetagraphSnapshot;
  /** Whether a subnet is served by its own API (no miners). */
  readonly servedByApi: (netuid: number) => boolean;
  /** A subnet's routable upstreams in routing order (rank, or blend when it applies). */
  readonly routingOrder: (subnet: SubnetSnapshot) => readonly Upstream[];
}

const SUBNET_ONLY = /^sn(\d{1,5})$/;
const SUBNET_PREFIX = /^sn(\d{1,5})(?:\/|$)/;
const PINNED = /^(.+)\/uid:(\d{1,5})$/;

/**
 * `sn4` or `sn4/<model>` as a model id of one miner subnet, for a pin or
 * top_n; anything else is a 400 naming `param`.
 */
function subnetModel(text: string, ctx: TargetContext, param: string): { model: string; subnet: SubnetSnapshot } {
  const named = SUBNET_PREFIX.exec(text);
  const servedNetuid = named ? Number(named[1]) : null;
  if (servedNetuid !== null && ctx.catalog.netuids.includes(servedNetuid) && ctx.servedByApi(servedNetuid)) {
    const example = ctx.catalog.firstModel(servedNetuid, ctx.snapshot)?.id ?? `sn${servedNetuid}/<model>`;
    throw invalidRequest(`target "${text}": sn${servedNetuid} is served by its own API: it has no miners to pick (use sn${servedNetuid} or ${example})`, param, 'unknown_target');
  }
  const snapshot = ctx.requireSnapshot();
  const bare = SUBNET_ONLY.exec(text);
  let model = text;
  if (bare) {
    const netuid = Number(bare[1]);
    const subnet = ctx.catalog.netuids.includes(netuid) ? snapshot.subnets.get(netuid) : undefined;
    if (!subnet) throw invalidRequest(`unknown target "${text}": subnet ${netuid} is not served by this gateway`, param, 'unknown_target');
    // The subnet's provider says what it offers (a configured list wins over the snapshot's), as for /v1/models.
    const first = ctx.catalog.firstModel(netuid, snapshot);
    if (!first) throw invalidRequest(`target "${text}": subnet ${netuid} lists no models, so name one: sn${netuid}/<model>`, param, 'unknown_target');
    model = first.id;
  }
  let resolved;
  try {
    resolved = ctx.catalog.resolve(model, snapshot).targets;
  } catch (err) {
    if (err instanceof GatewayError) throw invalidRequest(`unknown target "${text}": ${err.message}`, param, 'unknown_target');
    throw err;
  }
  const only = resolved.length === 1 ? resolved[0] : undefined;
  const subnet = only ? snapshot.subnets.get(only.netuid) : undefined;
  if (!only || !subnet || only.id !== model) {
    throw invalidRequest(`target "${text}" is not one subnet's model: a miner can only be pinned as sn<netuid>/uid:<uid> or sn<netuid>/<model>/uid:<uid>`, param, 'unknown_target');
  }
  return { model, subnet };
}

/**
 * top_n without `subnet`: the gateway's one subnet with miners, when it
 * serves exactly one (subnets served by their own API have none to pick);
 * otherwise a 400 listing the ones it could be.
 */
function defaultSubnet(ctx: TargetContext): string {
  const withMiners = ctx.catalog.netuids.filter((n) => !ctx.servedByApi(n)).map((n) => `sn${n}`);
  if (withMiners.length === 1) return withMiners[0] as string;
  const served =
    withMiners.length === 0
      ? 'this gateway serves no subnet with miners'
      : `this gateway serves miners on ${withMiners.join(', ')}: name one, e.g. "subnet": "${withMiners[0]}"`;
  throw invalidRequest(`top_n needs the subnet to take the miners from; ${served}`, 'subnet');
}

function planOne(text: string, ctx: TargetContext, param: string): PlannedTarget {
  const pinned = PINNED.exec(text);
  if (pinned) {
    const { model, subnet } = subnetModel(pinned[1] as string, ctx, param);
    const uid = Number(pinned[2]);
    // Not on the subnet at all is a typo (400); on it but unroutable is the entry's own 503.
    const neuron = subnet.neurons.find((n) => n.uid === uid);
    if (!neuron) throw invalidRequest(`unknown target "${text}": uid ${uid} is not on subnet ${subnet.netuid}`, param, 'unknown_target');
    return { target: text, model, pinnedUids: [uid], pinnedMiner: { netuid: subnet.netuid, uid, hotkey: neuron.hotkey } };
  }
  if (SUBNET_ONLY.test(text)) {
    // A subnet served by its own API has no miners in the snapshot, but a first model all the same.
    const first = ctx.catalog.firstModel(Number(SUBNET_ONLY.exec(text)?.[1]), ctx.snapshot);
    return { target: text, model: first?.id ?? subnetModel(text, ctx, param).model, pinnedUids: null, pinnedMiner: null };
  }
  try {
    ctx.catalog.resolve(text, ctx.snapshot);
  } catch (err) {
    if (err instanceof GatewayError) throw invalidRequest(`unknown target "${text}": ${err.message}`, param, 'unknown_target');
    throw err;
  }
  return { target: text, model: text, pinnedUids: null, pinnedMiner: null };
}

export function planTargets(
  input: { readonly targets?: readonly string[]; readonly top_n?: number; readonly subnet?: string },
  ctx: TargetContext,
  maxTargets: number,
): PlannedTarget[] {
  if (input.targets) {
    if (input.targets.length > maxTargets) throw invalidRequest(`at most ${maxTargets} targets per comparison (COMPARE_MAX_TARGETS)`, 'targets', 'too_many_targets');
    return input.targets.map((t, i) => planOne(t, ctx, `targets[${i}]`));
  }
  const n = input.top_n ?? 0;
  if (n > maxTargets) throw invalidRequest(`top_n is out of range: 1 to ${maxTargets} (COMPARE_MAX_TARGETS)`, 'top_n', 'top_n_out_of_range');
  const text = input.subnet ?? defaultSubnet(ctx);
  if (PINNED.test(text)) throw invalidRequest('subnet names a subnet or one of its models, not a miner', 'subnet', 'unknown_target');
  const { model, subnet } = subnetModel(text, ctx, 'subnet');
  const best = ctx.routingOrder(subnet).slice(0, n);
  if (best.length === 0) throw noRoutableMiner(subnet.noRouteReason ?? `subnet ${subnet.netuid} has no routable miner`);
  const prefix = SUBNET_ONLY.test(text) ? `sn${subnet.netuid}` : model;
  return best.flatMap((u) =>
    u.uid === null || u.hotkey === null
      ? []
      : [{ target: `${prefix}/uid:${u.uid}`, model, pinnedUids: [u.uid], pinnedMiner: { netuid: u.netuid, uid: u.uid, hotkey: u.hotkey } }],
  );
}
