import { describe, expect, it } from 'vitest';
import { ConfigError, defaultNetuidsNotice, loadConfig } from '../src/config.js';
import { devnetGatewayConfig } from '../src/devnet/devnet-config.js';

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

  it('serves the inference subnets taogate knows with SUBTENSOR_URL and no NETUIDS, and says so', () => {
    const env = { SUBTENSOR_URL: 'finney' };
    const config = loadConfig(env);
    expect(config.SUBTENSOR_URL).toMatch(/^wss:\/\//);
    expect(config.NETUIDS).toEqual([4, 19, 62, 64]);
    expect(defaultNetuidsNotice(env, config)).toBe(
      'NETUIDS is unset: serving the inference subnets taogate knows (sn4 Targon, sn19 Nineteen, sn62 Ridges, sn64 Chutes); set NETUIDS to choose, e.g. NETUIDS=4,64',
    );
    // Chosen, or no chain at all: nothing defaulted, nothing to say.
    const chosen = { SUBTENSOR_URL: 'finney', NETUIDS: '64' };
    expect(loadConfig(chosen).NETUIDS).toEqual([64]);
    expect(defaultNetuidsNotice(chosen, loadConfig(chosen))).toBeNull();
    expect(loadConfig({ SUBTENSOR_URL: 'finney', NETUIDS: '' }).NETUIDS).toEqual([4, 19, 62, 64]);
    expect(defaultNetuidsNotice({}, loadConfig({}))).toBeNull();
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

describe('the embedded devnet configuration', () => {
  const devnet = (env: Record<string, string>) => devnetGatewayConfig(loadConfig(env), env, [4, 62]);

  it('listens on loopback unless HOST is set, since its banner prints a working key', () => {
    expect(devnet({}).HOST).toBe('127.0.0.1');
    expect(devnet({ HOST: '' }).HOST).toBe('127.0.0.1');
    expect(devnet({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(devnet({ HOST: '::1' }).HOST).toBe('::1');
    // Outside the devnet the default stays what it was.
    expect(loadConfig({}).HOST).toBe('0.0.0.0');
  });

  it('allows its loopback miners and serves its subnets unless NETUIDS says otherwise', () => {
    expect(devnet({})).toMatchObject({ ALLOW_PRIVATE_AXONS: true, NETUIDS: [4, 62], GATEWAY_HOTKEY_URI: '//TaogateDevnet' });
    expect(devnet({}).ADMIN_TOKEN).toMatch(/^devnet-admin-[0-9a-f]{24}$/);
    expect(devnet({ NETUIDS: '4', ADMIN_TOKEN: 'my-own-admin-token-123' })).toMatchObject({ NETUIDS: [4], ADMIN_TOKEN: 'my-own-admin-token-123' });
  });
});
