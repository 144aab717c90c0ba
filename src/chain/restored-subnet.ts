/**
 * A subnet snapshot restored from the store is ranked again before it is
 * served: the operator may have changed the address policy or the model
 * names since it was saved, and "routable" must mean what it means today.
 * The saved scores stand in for the policy (the chain is not reachable yet).
 */
import type { AddressPolicy } from '../router/address-guard.js';
import { rankSubnet } from './rank.js';
import type { SubnetSnapshot } from './snapshot.js';

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
