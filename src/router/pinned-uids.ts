/**
 * `x-taogate-uids: 12,15` pins a request to specific miners of the subnet.
 * Pinning narrows the choice; it never bypasses a guard, so a pinned uid that
 * is not routable is refused with the reason.
 */
import type { Upstream } from '../../providers/provider.js';
import type { SubnetSnapshot } from '../chain/snapshot.js';
import { invalidRequest, noRoutableMiner } from '../errors.js';

export const PIN_HEADER = 'x-taogate-uids';

export function parsePinnedUids(header: string | undefined): number[] | null {
  if (header === undefined || header.trim() === '') return null;
  const uids = header.split(',').map((part) => part.trim());
  const parsed = uids.map(Number);
  if (parsed.some((uid, i) => uids[i] === '' || !Number.isInteger(uid) || uid < 0 || uid > 65535)) {
    throw invalidRequest(`${PIN_HEADER} must be a comma-separated list of uids, got "${header}"`, PIN_HEADER, 'invalid_header');
  }
  return [...new Set(parsed)];
}

/** The pinned upstreams in rank order, or a 503 saying why none can be used. */
export function pinUpstreams(upstreams: readonly Upstream[], uids: readonly number[], subnet: SubnetSnapshot): Upstream[] {
  const wanted = new Set(uids);
  const kept = upstreams.filter((u) => u.uid !== null && wanted.has(u.uid));
  if (kept.length > 0) return kept;
  const present = new Set(subnet.neurons.map((n) => n.uid));
  const reasons = uids.map((uid) => {
    if (!present.has(uid)) return `uid ${uid} is not on subnet ${subnet.netuid}`;
    return `uid ${uid} is not routable (${subnet.unroutable.get(uid) ?? 'not ranked'})`;
  });
  throw noRoutableMiner(`none of the pinned uids (${PIN_HEADER}: ${uids.join(',')}) is routable: ${reasons.join('; ')}`);
}
