/**
 * The Workers transport (createFetchTransport) over Node's own fetch against
 * real HTTP servers on loopback: chain addresses in a blocked class are
 * refused before any connection, redirects come back as the miner's answer
 * (never followed), and answers over MAX_RESPONSE_BYTES are refused whether
 * they say so up front or grow past it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressPolicy } from '../src/router/address-guard.js';
import { createFetchTransport } from '../src/transport/fetch-transport.js';
import { TransportError, type HttpTransport, type UpstreamReply } from '../src/transport/http-transport.js';

const TIMEOUTS = { connectMs: 1000, firstByteMs: 2000, idleMs: 2000 };
const CHAIN_POLICY: AddressPolicy = { allowPrivate: false };

interface Served {
  readonly origin: string;
  /** TCP connections the server accepted. */
  readonly connections: () => number;
  /** Requests it received. */
  readonly requests: () => number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Served> {
  let connections = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => handler(req, res));
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, requests: () => requests };
}

/**
 * A fetch that only records being called: the guard must refuse before it
 * (and should it regress, the test must still never reach a non-loopback address).
 */
function tripwireFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  const tripwire: typeof fetch = () => {
    calls++;
    return Promise.reject(new Error('fetch was called'));
  };
  return { fetch: tripwire, calls: () => calls };
}

const post = (transport: HttpTransport, origin: string, signal = new AbortController().signal, timeouts = TIMEOUTS) =>
  transport.post(origin, '/v1/chat/completions', { 'content-type': 'application/json' }, Buffer.from('{}'), { signal, timeouts });

async function failure(pending: Promise<unknown>): Promise<TransportError> {
  const err = await pending.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

async function readAll(reply: UpstreamReply): Promise<string> {
  let text = '';
  for await (const chunk of reply.body) text += Buffer.from(chunk).toString();
  return text;
}

describe('fetch transport: the address guard', () => {
  it('refuses the metadata address 169.254.169.254 as link-local, without calling fetch', async () => {
    const counted = tripwireFetch();
    const transport = createFetchTransport({ maxResponseBytes: 1024, addressPolicy: CHAIN_POLICY, fetch: counted.fetch });
    const err = await failure(post(transport, 'http://169.254.169.254:80'));
    expect(err.phase).toBe('blocked');
    expect(err.message).toMatch(/169\.254\.169\.254: link-local address/);
    expect(counted.calls()).toBe(0);
  });

  it('refuses a loopback miner before any connection is made, and reaches it once private axons are allowed', async () => {
    const miner = await serve((_req, res) => res.end('{}'));
    const blocked = createFetchTransport({ maxResponseBytes: 1024, addressPolicy: CHAIN_POLICY });
    const err = await failure(post(blocked, miner.origin));
    expect(err.phase).toBe('blocked');
    expect(err.message).toMatch(/127\.0\.0\.1: loopback address/);
    await new Promise((r) => setTimeout(r, 50));
    expect(miner.connections()).toBe(0);

    const allowed = createFetchTransport({ maxResponseBytes: 1024, addressPolicy: { allowPrivate: true } });
    const reply = await post(allowed, miner.origin);
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe('{}');
    expect(miner.connections()).toBe(1);
  });

  it('without an address policy (operator-configured subnet APIs) any address is reached', async () => {
    const api = await serve((_req, res) => res.end('ok'));
    const reply = await post(createFetchTransport({ maxResponseBytes: 1024 }), api.origin);
    expect(await reply.text()).toBe('ok');
    expect(api.requests()).toBe(1);
  });
});

describe('fetch transport: redirects', () => {
  it('hands a 302 back as the answer and never follows it', async () => {
    const target = await serve((_req, res) => res.end('{"secret":true}'));
    const miner = await serve((_req, res) => {
      res.writeHead(302, { location: `${target.origin}/latest/meta-data`, 'content-length': 0 });
      res.end();
    });
    const reply = await post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin);
    expect(reply.status).toBe(302);
    expect(reply.header('location')).toBe(`${target.origin}/latest/meta-data`);
    reply.discard();
    await new Promise((r) => setTimeout(r, 50));
    expect(target.requests()).toBe(0);
  });
});

describe('fetch transport: response size and time', () => {
  it('refuses an answer whose content-length is over MAX_RESPONSE_BYTES before reading it', async () => {
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 4096 });
      res.end('x'.repeat(4096));
    });
    const err = await failure(post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin));
    expect(err.phase).toBe('too_large');
  });

  it('cuts a body without content-length once it grows past MAX_RESPONSE_BYTES', async () => {
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 8; i++) res.write('y'.repeat(512));
      res.end();
    });
    const reply = await post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin);
    expect(reply.status).toBe(200);
    const err = await failure(readAll(reply));
    expect(err.phase).toBe('too_large');
  });

  it('passes a body within the cap through whole', async () => {
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 4; i++) res.write(`data: ${i}\n\n`);
      res.end();
    });
    const reply = await post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin);
    expect(reply.contentType).toBe('text/event-stream');
    expect(await readAll(reply)).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n');
  });

  it('stamps firstByteAt when the headers arrive, not when the body ends', async () => {
    const miner = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      setTimeout(() => res.end('{"late":true}'), 300);
    });
    const sent = performance.now();
    const reply = await post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin);
    const resolved = performance.now();
    expect(reply.firstByteAt).toBeGreaterThanOrEqual(sent);
    expect(reply.firstByteAt).toBeLessThanOrEqual(resolved);
    expect(await reply.text()).toBe('{"late":true}');
    expect(performance.now() - reply.firstByteAt).toBeGreaterThanOrEqual(250);
  });

  it('gives up at the first-byte timeout on a miner that never answers', async () => {
    const miner = await serve(() => undefined);
    const err = await failure(post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin, undefined, { connectMs: 100, firstByteMs: 100, idleMs: 1000 }));
    expect(err.phase).toBe('first_byte');
    expect(err.message).toMatch(/no response headers within 200 ms/);
  });

  it('stops on the caller’s signal', async () => {
    const miner = await serve(() => undefined);
    const controller = new AbortController();
    const pending = post(createFetchTransport({ maxResponseBytes: 1024 }), miner.origin, controller.signal);
    await expect.poll(() => miner.requests()).toBe(1);
    controller.abort(new Error('client gone'));
    expect((await failure(pending)).phase).toBe('aborted');
  });
});
