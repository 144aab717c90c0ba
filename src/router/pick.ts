/**
 * Chooses which upstreams a request tries, in order. The best miner should
 * get most traffic but not all: a weighted draw without replacement among
 * the top K keeps the ranking meaningful while spreading load and giving
 * lower-ranked miners a chance to prove themselves.
 */
import type { Upstream } from '../../providers/provider.js';

export type Random = () => number;

/**
 * Returns up to `count` distinct upstreams drawn from the first `topK`,
 * each draw weighted by `weightOf` (default: the rank policy's weight).
 */
export function drawAttemptOrder(
  upstreams: readonly Upstream[],
  options: { topK: number; count: number; random?: Random; weightOf?: (u: Upstream) => number },
): Upstream[] {
  const random = options.random ?? Math.random;
  const weightOf = options.weightOf ?? ((u: Upstream) => u.weight);
  const pool = upstreams.slice(0, options.topK);
  const weights = pool.map((u) => Math.max(0, weightOf(u)));
  const order: Upstream[] = [];
  let total = weights.reduce((a, b) => a + b, 0);
  while (order.length < options.count && pool.length > 0) {
    let index = 0;
    if (total > 0) {
      let ticket = random() * total;
      while (index < pool.length - 1 && ticket >= (weights[index] ?? 0)) ticket -= weights[index++] ?? 0;
    } else {
      // All weights zero (e.g. every miner unhealthy): fall back to rank order.
      index = 0;
    }
    order.push(pool[index] as Upstream);
    total -= weights[index] ?? 0;
    pool.splice(index, 1);
    weights.splice(index, 1);
  }
  return order;
}
