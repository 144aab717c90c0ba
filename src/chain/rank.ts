/**
 * Turns a subnet's neurons and a rank policy's scores into the immutable
 * ranked view the router reads. Every source (file, chain, devnet) goes
 * through here so "routable" means the same thing everywhere.
 */
import { isAddressAllowed, type AddressPolicy } from '../router/address-guard.js';
import type { Neuron, RankedMiner, SubnetSnapshot, UnroutableReason } from './snapshot.js';

export interface RankInput {
  readonly netuid: number;
  readonly models: readonly string[];
  readonly neurons: readonly Neuron[];
  readonly block: number | null;
  /** Name of the policy, shown to operators: "incentive", "validator:<ss58>", … */
  readonly policy: string;
  /** The policy's raw score for a neuron (any non-negative scale). */
  readonly scoreOf: (neuron: Neuron) => number;
  readonly addressPolicy: AddressPolicy;
}

function unroutableReason(neuron: Neuron, score: number, addressPolicy: AddressPolicy): UnroutableReason | null {
  if (!neuron.axon) return 'no_axon';
  if (!neuron.active) return 'inactive';
  if (!(score > 0)) return 'zero_score';
  if (!isAddressAllowed(neuron.axon.ip, addressPolicy)) return 'private_address';
  return null;
}

const REASON_TEXT: Record<UnroutableReason, string> = {
  no_axon: 'publish no axon',
  inactive: 'are inactive',
  zero_score: 'have zero score',
  private_address: 'have a private or loopback address (set ALLOW_PRIVATE_AXONS=1 to allow)',
};

function explainNoRoute(input: RankInput, scored: ReadonlyArray<{ neuron: Neuron; score: number; reason: UnroutableReason | null }>): string {
  const prefix = `subnet ${input.netuid}, RANK_BY=${input.policy}`;
  if (input.neurons.length === 0) return `${prefix}: the subnet has no neurons`;
  const positive = scored.filter((s) => s.score > 0);
  if (positive.length === 0) return `${prefix}: no neuron has a score above zero, so no miner is routable`;
  const counts = new Map<UnroutableReason, number[]>();
  for (const s of positive) {
    if (!s.reason) continue;
    const uids = counts.get(s.reason) ?? [];
    uids.push(s.neuron.uid);
    counts.set(s.reason, uids);
  }
  const parts = [...counts].map(([reason, uids]) => {
    const shown = uids.slice(0, 5).join(', ') + (uids.length > 5 ? ', …' : '');
    return `${uids.length} ${REASON_TEXT[reason]} (uid ${shown})`;
  });
  const noun = positive.length === 1 ? 'neuron has' : 'neurons have';
  return `${prefix}: no routable miner — ${positive.length} ${noun} a score above zero, and of those ${parts.join('; ')}`;
}

export function rankSubnet(input: RankInput): SubnetSnapshot {
  const scored = input.neurons.map((neuron) => {
    const raw = input.scoreOf(neuron);
    const score = Number.isFinite(raw) && raw > 0 ? raw : 0;
    return { neuron, score, reason: unroutableReason(neuron, score, input.addressPolicy) };
  });
  const routable = scored.filter((s) => s.reason === null);
  // Highest score first; ties broken by uid so the order is deterministic.
  routable.sort((a, b) => b.score - a.score || a.neuron.uid - b.neuron.uid);
  const total = routable.reduce((sum, s) => sum + s.score, 0);
  const ranked: RankedMiner[] = routable.map((s, i) =>
    Object.freeze({ neuron: s.neuron, score: s.score / total, rank: i + 1 }),
  );
  const unroutable = new Map<number, UnroutableReason>();
  for (const s of scored) if (s.reason) unroutable.set(s.neuron.uid, s.reason);
  return Object.freeze({
    netuid: input.netuid,
    models: Object.freeze([...input.models]),
    neurons: Object.freeze([...input.neurons]),
    ranked: Object.freeze(ranked),
    unroutable,
    rankPolicy: input.policy,
    noRouteReason: ranked.length === 0 ? explainNoRoute(input, scored) : null,
    block: input.block,
  });
}
