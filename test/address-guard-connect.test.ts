/**
 * Defence in depth for chain-published addresses: besides the snapshot
 * never ranking them, the transport that miners are reached through refuses
 * every blocked address class when it connects, so nothing can steer the
 * gateway at its own network even if a blocked address got past ranking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiEpistulaProvider } from '../providers/openai-epistula.js';
import type { Upstream } from '../providers/provider.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { createEpistulaSigner } from '../src/epistula/signer.js';
import { TransportError, type HttpTransport } from '../src/transport/http-transport.js';
import { createUndiciTransport } from '../src/transport/undici-transport.js';

const TIMEOUTS = { connectMs: 1_000, firstByteMs: 2_000, idleMs: 2_000 };
const BODY = new TextEncoder().encode('{}');

let miner: RunningMiner;
let strict: HttpTransport;
let privateAllowed: HttpTransport;

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//GuardMiner', verifySignatures: false });
  strict = createUndiciTransport({ maxResponseBytes: 1 << 20, connectTimeoutMs: 1_000, addressPolicy: { allowPrivate: false } });
  privateAllowed = createUndiciTransport({ maxResponseBytes: 1 << 20, connectTimeoutMs: 1_000, addressPolicy: { allowPrivate: true } });
});

afterAll(async () => {
  await strict.close();
  await privateAllowed.close();
  await miner.close();
});

async function refusal(transport: HttpTransport, origin: string): Promise<TransportError> {
  const err = await transport
    .post(origin, '/v1/chat/completions', { 'content-type': 'application/json' }, BODY, { signal: new AbortController().signal, timeouts: TIMEOUTS })
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('address guard at the connection layer', () => {
  it.each([
    ['loopback', 'http://127.0.0.1:PORT'],
    ['loopback (IPv6)', 'http://[::1]:PORT'],
    ['loopback (IPv4-mapped IPv6)', 'http://[::ffff:127.0.0.1]:PORT'],
    ['private 10/8', 'http://10.0.0.1:80'],
    ['private 172.16/12', 'http://172.16.5.4:80'],
    ['private 192.168/16', 'http://192.168.1.1:80'],
    ['link-local (cloud metadata)', 'http://169.254.169.254:80'],
    ['CGNAT', 'http://100.64.0.1:80'],
    ['multicast', 'http://224.0.0.1:80'],
    ['broadcast', 'http://255.255.255.255:80'],
    ['unspecified', 'http://0.0.0.0:80'],
    ['unspecified (IPv6)', 'http://[::]:80'],
    ['reserved 240/4', 'http://240.0.0.1:80'],
    ['documentation', 'http://192.0.2.1:80'],
    ['IPv6 unique local', 'http://[fd12:3456::1]:80'],
    ['IPv6 link-local', 'http://[fe80::1]:80'],
    ['IPv6 multicast', 'http://[ff02::1]:80'],
    ['NAT64 of a private address', 'http://[64:ff9b::a00:1]:80'],
    ['a hostname (chain axons are numeric)', 'http://localhost:PORT'],
  ])('refuses %s', async (_name, template) => {
    const origin = template.replace('PORT', String(miner.port));
    const err = await refusal(strict, origin);
    expect(err.phase).toBe('blocked');
    expect(err.message).toMatch(/^refused to connect to .+ALLOW_PRIVATE_AXONS=1/);
    // Refused before any socket: the loopback miner never saw a connection.
    expect(miner.requestCount).toBe(0);
  });

  it('ALLOW_PRIVATE_AXONS opens loopback and private ranges, never unspecified, multicast or broadcast', async () => {
    const ok = await privateAllowed.post(`http://127.0.0.1:${miner.port}`, '/v1/chat/completions', { 'content-type': 'application/json' }, new TextEncoder().encode('{"model":"m","messages":[{"role":"user","content":"x"}]}'), {
      signal: new AbortController().signal,
      timeouts: TIMEOUTS,
    });
    expect(ok.status).toBe(200);
    await ok.text();
    expect(miner.requestCount).toBe(1);
    for (const origin of ['http://0.0.0.0:80', 'http://224.0.0.1:80', 'http://255.255.255.255:80', 'http://[ff02::1]:80']) {
      const err = await refusal(privateAllowed, origin);
      expect(err.phase).toBe('blocked');
    }
    miner.reset();
  });

  it('the miner provider goes through it: a chain upstream pointing at the metadata service is refused', async () => {
    const signer = await createEpistulaSigner('//GuardGateway');
    const provider = createOpenAiEpistulaProvider({ signer, transport: strict });
    const upstream: Upstream = { id: '4/0/5Fake', netuid: 4, uid: 0, hotkey: miner.hotkey, origin: 'http://169.254.169.254:80', weight: 1, rank: 1 };
    const err = await provider
      .send({ endpoint: 'chat', body: '{}', stream: false, upstream, signal: new AbortController().signal, timeouts: TIMEOUTS })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).phase).toBe('blocked');
    expect((err as TransportError).message).toMatch(/169\.254\.169\.254: link-local address/);
  });
});
