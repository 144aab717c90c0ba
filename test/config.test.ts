import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.METAGRAPH_REFRESH_S).toBe(60);
    expect(config.ALLOW_PRIVATE_AXONS).toBe(false);
    expect(config.ROUTER_TOP_K).toBe(8);
    expect(config.NETUIDS).toBeUndefined();
  });

  it('parses lists, flags and aliases', () => {
    const config = loadConfig({ NETUIDS: '4, 64,4', ALLOW_PRIVATE_AXONS: '1', MODEL_ALIASES: '{"llama":"sn4/llama","x":["sn4/a","sn64/b"]}' });
    expect(config.NETUIDS).toEqual([4, 64]);
    expect(config.ALLOW_PRIVATE_AXONS).toBe(true);
    expect(config.MODEL_ALIASES).toEqual({ llama: ['sn4/llama'], x: ['sn4/a', 'sn64/b'] });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['NETUIDS', '4,abc'],
    ['ALLOW_PRIVATE_AXONS', 'maybe'],
    ['REDIS_URL', 'http://localhost'],
    ['MODEL_ALIASES', '{not json'],
    ['LOG_LEVEL', 'loud'],
  ])('names %s when it is bad (%s)', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  describe('GATEWAY_HOTKEY_URI', () => {
    // A valid BIP39 test vector; the same words with a wrong last word fail its checksum.
    const MNEMONIC = 'legal winner thank year wave sausage worth useful legal winner thank yellow';

    it.each([
      ['a bare name', 'alice', /dev URI \(\/\/Name\), a BIP39 mnemonic, or a 0x-prefixed 32-byte hex seed/],
      ['a mnemonic with a bad checksum', 'legal winner thank year wave sausage worth useful legal winner thank thank', /invalid BIP39 mnemonic/],
      ['twelve words that are not BIP39 words', 'zebra1 quux frob alpha beta gamma delta kappa omega lambda sigma tau', /invalid BIP39 mnemonic/],
      ['a short hex seed', '0x1234', /0x-prefixed 32-byte hex seed/],
    ])('names the variable for %s, without echoing the secret', (_, value, why) => {
      let message = '';
      try {
        loadConfig({ GATEWAY_HOTKEY_URI: value });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message).toMatch(/GATEWAY_HOTKEY_URI: /);
      expect(message).toMatch(why);
      expect(message).not.toContain(value);
    });

    it.each(['//Alice', `${MNEMONIC}//hard/soft///pass`, '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60//gateway'])(
      'accepts %s and keeps it as given',
      (uri) => {
        expect(loadConfig({ GATEWAY_HOTKEY_URI: uri }).GATEWAY_HOTKEY_URI).toBe(uri);
      },
    );
  });

  it('never echoes secrets back in errors', () => {
    let message = '';
    try {
      loadConfig({ ADMIN_TOKEN: 'short-secret' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/ADMIN_TOKEN: must be at least 16 characters/);
    expect(message).not.toContain('short-secret');
  });
});
