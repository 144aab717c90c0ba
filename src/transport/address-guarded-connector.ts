/**
 * The SSRF guard at the connection layer. The metagraph snapshot already
 * never ranks a blocked chain address, but that is one check in one place;
 * this one sits where every socket to a chain-published upstream is opened,
 * so no later code path (a new source, a pinned uid, a bug) can reach the
 * gateway's own network or the cloud metadata service. It runs once per new
 * connection, never per request on a kept-alive socket.
 *
 * Operator-configured upstreams (a subnet's own API) are trusted: they get a
 * transport without this connector (createUndiciTransport without
 * `addressPolicy`).
 */
import { buildConnector } from 'undici';
import { blockedAddressClass, isAddressAllowed, type AddressPolicy } from '../router/address-guard.js';

export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'TAOGATE_BLOCKED_ADDRESS';
}

export function addressGuardedConnector(policy: AddressPolicy, options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) => {
    // undici passes IPv6 hosts without brackets; accept both to be safe.
    const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    if (!isAddressAllowed(host, policy)) {
      const cls = blockedAddressClass(host) ?? 'invalid';
      const hint = policy.allowPrivate ? '' : ' (set ALLOW_PRIVATE_AXONS=1 for a devnet or your own LAN)';
      callback(new BlockedAddressError(`refused to connect to ${host}: ${cls.replace('_', '-')} address${hint}`), null);
      return;
    }
    connect(target, callback);
  };
}
