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
