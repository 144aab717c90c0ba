/**
 * A subnet snapshot restored from the store is ranked again before it is
 * served: the operator may have changed the address policy or the model
 * names since it was saved, and "routable" must mean what it means today.
 * The saved scores stand in for the policy (the chain is not reachable yet).
 */
import type { AddressPolicy } from '../router/address-guard.js';
import { rankSubnet } from './rank.js';
import type { MetagraphSnapshot, SubnetSnapshot } from './snapshot.js';

export function rerankRestoredSubnet(saved: SubnetSnapshot, models: readonly string[], addressPolicy: AddressPolicy): SubnetSnapshot {
  const scores = new Map(saved.ranked.map((m) => [m.neuron.uid, m.score]));
  const ranked = rankSubnet({
    netuid: saved.netuid,
    models,
    neurons: saved.neurons,
    block: saved.block,
    policy: saved.rankPolicy,
    scoreOf: (neuron) => scores.get(neuron.uid) ?? 0,
    addressPolicy,
  });
  // Nothing was routable when saved: the reason given then (e.g. "uid 395 publishes
  // no axon") says more than "no score above zero", which is all the saved scores tell.
  if (ranked.ranked.length === 0 && saved.ranked.length === 0 && saved.noRouteReason) {
    return Object.freeze({ ...ranked, noRouteReason: saved.noRouteReason });
  }
  return ranked;
}

/**
 * The part of a saved snapshot this gateway serves, ranked under today's
 * settings: only `netuids` (every saved subnet when null), each with the
 * models `modelsFor` gives it. Null when none of them is in it.
 */
export function rerankRestoredSnapshot(
  saved: MetagraphSnapshot,
  netuids: readonly number[] | null,
  modelsFor: (netuid: number, saved: SubnetSnapshot) => readonly string[],
  addressPolicy: AddressPolicy,
): MetagraphSnapshot | null {
  const subnets = new Map<number, SubnetSnapshot>();
  for (const netuid of netuids ?? [...saved.subnets.keys()]) {
    const subnet = saved.subnets.get(netuid);
    if (subnet) subnets.set(netuid, rerankRestoredSubnet(subnet, modelsFor(netuid, subnet), addressPolicy));
  }
  return subnets.size === 0 ? null : Object.freeze({ ...saved, subnets });
}
