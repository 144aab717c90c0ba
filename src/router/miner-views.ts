/**
 * Per-miner views of what the router knows beyond the chain (health, and
 * the blend's components under RANK_BY=blend), keyed by uid, for
 * /v1/subnets/:netuid/miners and the dashboard.
 */
import type { SubnetSnapshot } from '../chain/snapshot.js';
import type { Gateway } from '../gateway.js';
import type { BlendComponents } from './blend.js';

/**
 * What traffic taught the gateway about each ranked miner (breaker state,
 * EWMAs, error rate; null before its first attempt) and the subnet's
 * current hedge delays.
 */
export function minerHealthOf(gw: Gateway, subnet: SubnetSnapshot) {
  const { health, hedge } = gw.reliability;
  const idByUid = new Map(gw.providerFor(subnet.netuid).upstreams(subnet).map((u) => [u.uid, u.id]));
  const stats = health.subnet(subnet.netuid);
  const delay = (stream: boolean) => (hedge.enabled(stream) ? Math.round(hedge.delayMs(stats, stream)) : null);
  return {
    subnet: { hedge_delay_ms: { non_stream: delay(false), stream: delay(true) } },
    of: (uid: number) => {
      const id = idByUid.get(uid);
      return id === undefined ? null : health.view(id);
    },
  };
}

/**
 * Under RANK_BY=blend: the weights, the quality window, and per miner its
 * three components and blended weight, in the order the router now prefers.
 */
export function minerBlendOf(gw: Gateway, subnet: SubnetSnapshot) {
  if (!gw.blend.applies(subnet)) return null;
  const upstreams = gw.providerFor(subnet.netuid).upstreams(subnet);
  const components = gw.blend.components(subnet, upstreams);
  const order = components.map((c, i) => ({ weight: c.weight, i })).sort((a, b) => b.weight - a.weight);
  const byUid = new Map<number | null, BlendComponents & { blend_rank: number }>(
    upstreams.map((u, i) => [u.uid, { ...(components[i] as BlendComponents), blend_rank: order.findIndex((o) => o.i === i) + 1 }]),
  );
  return {
    subnet: { blend: { weights: gw.blend.weights, quality_window: gw.config.BLEND_QUALITY_WINDOW.text } },
    of: (uid: number) => byUid.get(uid) ?? null,
  };
}

