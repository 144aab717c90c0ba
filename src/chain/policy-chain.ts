/**
 * Applies a RANK_BY fallback chain to one subnet: each policy in turn, the
 * first whose ranking has a routable miner wins. When none does, the first
 * policy's snapshot is kept, because its no-route reason is the one the
 * operator asked about first.
 */
import type { AddressPolicy } from '../router/address-guard.js';
import { RankPolicyUnavailable, type RankContext, type RankPolicy } from './rank-policy.js';
import { rankSubnet } from './rank.js';
import type { SubnetSnapshot } from './snapshot.js';

export interface PolicyChainInput extends RankContext {
  readonly models: readonly string[];
  readonly policies: readonly RankPolicy[];
  readonly addressPolicy: AddressPolicy;
}

async function rankWith(policy: RankPolicy, input: PolicyChainInput): Promise<SubnetSnapshot> {
  const base = {
    netuid: input.netuid,
    models: input.models,
    neurons: input.neurons,
    block: input.block,
    policy: policy.name,
    addressPolicy: input.addressPolicy,
  };
  try {
    return rankSubnet({ ...base, scoreOf: await policy.scores(input) });
  } catch (error) {
    if (!(error instanceof RankPolicyUnavailable)) throw error;
    // Still ranked by rankSubnet (nothing scores), with the policy's own explanation.
    return Object.freeze({ ...rankSubnet({ ...base, scoreOf: () => 0 }), noRouteReason: error.message });
  }
}

export async function rankWithPolicyChain(input: PolicyChainInput): Promise<SubnetSnapshot> {
  let first: SubnetSnapshot | null = null;
  for (const policy of input.policies) {
    const subnet = await rankWith(policy, input);
    if (subnet.ranked.length > 0) return subnet;
    first ??= subnet;
  }
  if (!first) throw new Error('RANK_BY has no policy');
  return first;
}
