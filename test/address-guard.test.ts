import { describe, expect, it } from 'vitest';
import { blockedAddressClass, isAddressAllowed } from '../src/router/address-guard.js';

describe('address guard', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:a9fe:a9fe', 'link_local'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2001:db8::1', 'documentation'],
    ['localhost', 'invalid'],
    ['example.com', 'invalid'],
  ])('%s is %s', (ip, cls) => {
    expect(blockedAddressClass(ip)).toBe(cls);
    expect(isAddressAllowed(ip, { allowPrivate: false })).toBe(false);
  });

  it.each(['8.8.8.8', '192.222.59.109', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (ip) => {
    expect(blockedAddressClass(ip)).toBeNull();
    expect(isAddressAllowed(ip, { allowPrivate: false })).toBe(true);
  });

  it('ALLOW_PRIVATE_AXONS opens private networks but never garbage, multicast or unspecified', () => {
    const policy = { allowPrivate: true };
    for (const ip of ['127.0.0.1', '10.0.0.1', '192.168.0.5', '::1', 'fd00::1', '100.64.1.1']) expect(isAddressAllowed(ip, policy)).toBe(true);
    for (const ip of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255', 'localhost']) expect(isAddressAllowed(ip, policy)).toBe(false);
  });
});
