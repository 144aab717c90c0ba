/**
 * Leaderboard rows are kept by hotkey (a uid is recycled when a miner
 * deregisters); readers want the uid it has now. One lookup table per
 * subnet per call, from the snapshot.
 */
import type { MetagraphSnapshot } from '../chain/snapshot.js';

/** Each row with its hotkey's current uid: null once it left the subnet, for a subnet's own API (no uid), and without a snapshot. */
export function withUids<R extends { readonly netuid: number; readonly hotkey: string }>(rows: readonly R[], snapshot: MetagraphSnapshot | null): Array<R & { uid: number | null }> {
  const bySubnet = new Map<number, ReadonlyMap<string, number>>();
  const uidOf = (netuid: number, hotkey: string) => {
    let uids = bySubnet.get(netuid);
    if (!uids) {
      uids = new Map(snapshot?.subnets.get(netuid)?.neurons.map((n) => [n.hotkey, n.uid]) ?? []);
      bySubnet.set(netuid, uids);
    }
    return uids.get(hotkey) ?? null;
  };
  return rows.map((row) => ({ ...row, uid: uidOf(row.netuid, row.hotkey) }));
}
