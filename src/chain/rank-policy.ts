/**
 * RANK_BY: how the chain source scores a subnet's neurons before
 * `rankSubnet` decides who is routable.
 *
 *   incentive                  Yuma incentive (the default)
 *   validator:<ss58 hotkey>    the weights a validator the operator trusts has set
 *   incentive,validator:5F…    a fallback chain, tried in order until one
 *                              policy yields a routable miner
 *   blend                      incentive here; mixed with observed quality and
 *                              health at routing time (src/router/blend.ts)
 *
 * New policies plug in as another RankPolicyParser, in RANK_POLICY_PARSERS
 * or passed to parseRankBy.
 */
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import type { Neuron } from './snapshot.js';

/** Subtensor's ss58 prefix: neuron hotkeys arrive in this format. */
const SUBTENSOR_SS58 = 42;

/** What a policy may look at for one subnet, all read at the same block. */
export interface RankContext {
  readonly netuid: number;
  readonly neurons: readonly Neuron[];
  readonly block: number | null;
  /** A validator's weights on this subnet: [target uid, raw u16 weight] pairs. */
  weightsOf(validatorUid: number): Promise<ReadonlyArray<readonly [number, number]>>;
}

export interface RankPolicy {
  /** As written in RANK_BY, e.g. "incentive" or "validator:5F…"; shown to operators. */
  readonly name: string;
  /**
   * The policy's raw score per neuron (any non-negative scale). Throws
   * RankPolicyUnavailable when it cannot rank this subnet at all; the
   * message is the operator-facing no-route reason.
   */
  scores(ctx: RankContext): Promise<(neuron: Neuron) => number>;
}

export class RankPolicyUnavailable extends Error {
  override readonly name = 'RankPolicyUnavailable';
}

export class RankByError extends Error {
  override readonly name = 'RankByError';
}

export const incentivePolicy: RankPolicy = Object.freeze({
  name: 'incentive',
  scores: async () => (neuron: Neuron) => neuron.incentive,
});

/**
 * RANK_BY=blend. A snapshot is ranked once per chain sync, but the other two
 * components of the blend change with every request (health) and every
 * comparison (quality), and quality lives in the store (async, shared by
 * replicas). So the chain side of blend is only its on-chain component,
 * incentive, under the name "blend"; the router sees that name and
 * re-weights the subnet's miners per request (src/router/blend.ts), reading
 * quality from a per-process index the leaderboard refreshes.
 */
export const blendPolicy: RankPolicy = Object.freeze({
  name: 'blend',
  scores: async () => (neuron: Neuron) => neuron.incentive,
});

/** Ranks by the weights one validator has set: "whom does a validator I trust reward?" */
export function validatorWeightsPolicy(hotkey: string): RankPolicy {
  const normalised = encodeAddress(decodeAddress(hotkey), SUBTENSOR_SS58);
  const name = `validator:${normalised}`;
  return Object.freeze({
    name,
    async scores(ctx: RankContext) {
      const prefix = `subnet ${ctx.netuid}, RANK_BY=${name}`;
      const validator = ctx.neurons.find((n) => n.hotkey === normalised);
      if (!validator) {
        throw new RankPolicyUnavailable(`${prefix}: validator hotkey ${normalised} is not registered on subnet ${ctx.netuid}`);
      }
      const weights = await ctx.weightsOf(validator.uid);
      const total = weights.reduce((sum, [, w]) => sum + w, 0);
      if (total === 0) {
        throw new RankPolicyUnavailable(`${prefix}: validator ${normalised} (uid ${validator.uid}) has set no weights on subnet ${ctx.netuid}`);
      }
      const byUid = new Map<number, number>();
      for (const [uid, w] of weights) byUid.set(uid, (byUid.get(uid) ?? 0) + w / total);
      return (neuron: Neuron) => byUid.get(neuron.uid) ?? 0;
    },
  });
}

/** Builds a policy from the text after "name:" in RANK_BY (null when there is none). */
export type RankPolicyParser = (argument: string | null) => RankPolicy;

export const RANK_POLICY_PARSERS: Readonly<Record<string, RankPolicyParser>> = Object.freeze({
  incentive: (argument) => {
    if (argument !== null) throw new RankByError(`RANK_BY=incentive takes no argument, got "incentive:${argument}"`);
    return incentivePolicy;
  },
  blend: (argument) => {
    if (argument !== null) throw new RankByError(`RANK_BY=blend takes no argument (its weights are BLEND_WEIGHTS), got "blend:${argument}"`);
    return blendPolicy;
  },
  validator: (argument) => {
    if (!argument) throw new RankByError('RANK_BY=validator needs a hotkey: validator:<ss58 address>');
    try {
      return validatorWeightsPolicy(argument);
    } catch (error) {
      throw new RankByError(`RANK_BY=validator:${argument}: not a valid ss58 address (${(error as Error).message})`);
    }
  },
});

/**
 * Parses RANK_BY into its fallback chain (at least one policy). Empty means
 * the default, incentive. Policies that need collaborators (e.g. a quality
 * blend reading observed latencies) pass their parsers in alongside the built-ins.
 */
export function parseRankBy(value: string, parsers: Readonly<Record<string, RankPolicyParser>> = RANK_POLICY_PARSERS): readonly RankPolicy[] {
  const specs = value.trim() === '' ? ['incentive'] : value.split(',').map((s) => s.trim());
  const policies = specs.map((spec) => {
    if (spec === '') throw new RankByError(`RANK_BY=${JSON.stringify(value)} has an empty entry`);
    const colon = spec.indexOf(':');
    const kind = (colon < 0 ? spec : spec.slice(0, colon)).toLowerCase();
    const argument = colon < 0 ? null : spec.slice(colon + 1).trim();
    const parse = Object.hasOwn(parsers, kind) ? parsers[kind] : undefined;
    if (!parse) {
      throw new RankByError(`RANK_BY: unknown policy "${kind}" (known: ${Object.keys(parsers).join(', ')})`);
    }
    return parse(argument);
  });
  const names = policies.map((p) => p.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new RankByError(`RANK_BY lists ${repeated} twice`);
  return Object.freeze(policies);
}
