/**
 * Subnet APIs are operator-configured and trusted: their transport has no
 * private-address guard (a loopback or LAN API works) and speaks https.
 * Chain-published miners keep the guard. A real TLS server on loopback with
 * a throwaway certificate (openssl) stands in for https://llm.chutes.ai.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chutesApi } from '../providers/chutes.js';
import { createSubnetApiProvider } from '../providers/subnet-api.js';
import { TransportError } from '../src/transport/http-transport.js';
import { createUndiciTransport } from '../src/transport/undici-transport.js';

const TIMEOUTS = { connectMs: 2000, firstByteMs: 2000, idleMs: 2000 };
let server: Server;
let origin = '';
let caPem = '';
let seen: { path: string; authorization: string | undefined } | null = null;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'taogate-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  caPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: caPem }, (req, res) => {
    seen = { path: req.url ?? '', authorization: req.headers.authorization };
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'over tls' }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('the subnet API transport', () => {
  it('reaches an https API on loopback through the adapter, with its key and the base URL’s path', async () => {
    const transport = createUndiciTransport({ maxResponseBytes: 1 << 20, connectTimeoutMs: 2000, extraCaPem: caPem });
    try {
      const provider = createSubnetApiProvider({ netuid: 64, adapter: chutesApi, baseUrl: `${origin}/api/v1/`, apiKey: 'cpk_tls', models: ['deepseek-v3'], transport });
      const [upstream] = provider.upstreams(undefined);
      expect(upstream?.origin).toBe(origin);
      const body = provider.encodeRequest({ model: 'sn64/x', messages: [{ role: 'user', content: 'hi' }] }, 'deepseek-ai/DeepSeek-V3-0324', 'chat');
      const reply = await provider.send({ endpoint: 'chat', body, stream: false, upstream: upstream!, signal: new AbortController().signal, timeouts: TIMEOUTS });
      expect(reply.status).toBe(200);
      expect(await reply.text()).toContain('over tls');
      expect(seen).toEqual({ path: '/api/v1/chat/completions', authorization: 'Bearer cpk_tls' });
    } finally {
      await transport.close();
    }
  });

  it('still verifies certificates: an untrusted one is refused', async () => {
    const transport = createUndiciTransport({ maxResponseBytes: 1 << 20, connectTimeoutMs: 2000 });
    try {
      const err = await transport.post(origin, '/v1/chat/completions', {}, Buffer.from('{}'), { signal: new AbortController().signal, timeouts: TIMEOUTS }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TransportError);
      expect((err as Error).message).toMatch(/self[- ]signed|certificate/i);
    } finally {
      await transport.close();
    }
  });

  it('the miners’ transport refuses the same loopback address', async () => {
    const guarded = createUndiciTransport({ maxResponseBytes: 1 << 20, connectTimeoutMs: 2000, extraCaPem: caPem, addressPolicy: { allowPrivate: false } });
    try {
      const err = await guarded.post(origin, '/v1/chat/completions', {}, Buffer.from('{}'), { signal: new AbortController().signal, timeouts: TIMEOUTS }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as TransportError).phase).toBe('blocked');
    } finally {
      await guarded.close();
    }
  });
});
