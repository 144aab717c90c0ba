/**
 * Chain axons store their address as a u128 plus an ip_type (4 or 6). This
 * converts between that and the text form the rest of the gateway uses, in
 * both directions, because the devnet node encodes what the source decodes.
 */

const U32_MASK = 0xffff_ffffn;
const U128_MAX = (1n << 128n) - 1n;

export class AxonIpError extends Error {
  override readonly name = 'AxonIpError';
}

/** For ip_type 4 only the low 32 bits carry the address (the rest is zero on chain). */
export function ipv4FromU128(value: bigint): string {
  const n = Number(value & U32_MASK);
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function ipv6FromU128(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipFromU128(value: bigint, ipType: 4 | 6): string {
  return ipType === 4 ? ipv4FromU128(value) : ipv6FromU128(value);
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    n = (n << 8n) | BigInt(octet);
  }
  return n;
}

function parseIpv6(text: string): bigint | null {
  let body = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIpv4(tail);
    if (v4 === null) return null;
    body = `${body.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let n = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    n = (n << 16n) | BigInt(parseInt(group, 16));
  }
  return n;
}

/** Parses dotted IPv4 or IPv6 text into the chain's (u128, ip_type) pair. */
export function ipToU128(text: string): { readonly value: bigint; readonly ipType: 4 | 6 } {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { value: v4, ipType: 4 };
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  if (v6 !== null && v6 <= U128_MAX) return { value: v6, ipType: 6 };
  throw new AxonIpError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
}
