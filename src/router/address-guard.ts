/**
 * SSRF guard for addresses published on chain. Anyone can register a neuron
 * and publish any axon address, so a gateway that blindly connects to them
 * can be steered at its own cloud metadata service or internal network.
 * Operator-configured upstreams are trusted and never pass through here.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type BlockedAddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'unique_local'
  | 'documentation'
  | 'invalid';

/** [first octets as a 32-bit number, prefix length, class] */
const IPV4_BLOCKS: ReadonlyArray<readonly [number, number, BlockedAddressClass]> = [
  [ipv4ToInt('0.0.0.0'), 8, 'unspecified'],
  [ipv4ToInt('10.0.0.0'), 8, 'private'],
  [ipv4ToInt('100.64.0.0'), 10, 'cgnat'],
  [ipv4ToInt('127.0.0.0'), 8, 'loopback'],
  [ipv4ToInt('169.254.0.0'), 16, 'link_local'],
  [ipv4ToInt('172.16.0.0'), 12, 'private'],
  [ipv4ToInt('192.0.0.0'), 24, 'reserved'],
  [ipv4ToInt('192.0.2.0'), 24, 'documentation'],
  [ipv4ToInt('192.168.0.0'), 16, 'private'],
  [ipv4ToInt('198.18.0.0'), 15, 'reserved'],
  [ipv4ToInt('198.51.100.0'), 24, 'documentation'],
  [ipv4ToInt('203.0.113.0'), 24, 'documentation'],
  [ipv4ToInt('224.0.0.0'), 4, 'multicast'],
  [ipv4ToInt('240.0.0.0'), 4, 'reserved'],
];

function ipv4ToInt(ip: string): number {
  const parts = ip.split('.');
  let n = 0;
  for (const part of parts) n = n * 256 + Number(part);
  return n;
}

function classifyIpv4(ip: string): BlockedAddressClass | null {
  if (ip === '255.255.255.255') return 'broadcast';
  const n = ipv4ToInt(ip);
  for (const [base, bits, cls] of IPV4_BLOCKS) {
    const size = 2 ** (32 - bits);
    if (n >= base && n < base + size) return cls;
  }
  return null;
}

/** Expands an IPv6 text address into its eight 16-bit groups. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(rest !== undefined ? missing : 0).fill('0'), ...restGroups];
  return groups.map((g) => parseInt(g, 16));
}

function classifyIpv6(ip: string): BlockedAddressClass | null {
  const g = ipv6Groups(ip);
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) return 'invalid';
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms reach the IPv4 address.
  if (upperZero && (g5 === 0xffff || g5 === 0)) {
    return classifyIpv4(`${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`);
  }
  // NAT64 well-known prefix 64:ff9b::/96 embeds an IPv4 address too.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIpv4(`${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`);
  }
  if ((g0 & 0xfe00) === 0xfc00) return 'unique_local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link_local';
  if ((g0 & 0xffc0) === 0xfec0) return 'reserved'; // deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'documentation';
  return null;
}

/**
 * Returns why an address must not be contacted, or null when it is a public
 * unicast address. Anything that does not parse as an IP is 'invalid': chain
 * axons are numeric, so a hostname here is never legitimate.
 */
export function blockedAddressClass(ip: string): BlockedAddressClass | null {
  if (isIPv4(ip)) return classifyIpv4(ip);
  if (isIPv6(ip)) return classifyIpv6(ip);
  return 'invalid';
}

export interface AddressPolicy {
  /** ALLOW_PRIVATE_AXONS=1: a devnet or operator's own LAN. */
  readonly allowPrivate: boolean;
}

const NEVER_ALLOWED: ReadonlySet<BlockedAddressClass> = new Set(['invalid', 'unspecified', 'multicast', 'broadcast']);

/** True when the gateway may connect to this chain-published address. */
export function isAddressAllowed(ip: string, policy: AddressPolicy): boolean {
  const cls = blockedAddressClass(ip);
  if (cls === null) return true;
  // Private axons opens the operator's own networks, never addresses that
  // cannot name one host (garbage, 0.0.0.0, multicast, broadcast).
  return policy.allowPrivate && !NEVER_ALLOWED.has(cls);
}
