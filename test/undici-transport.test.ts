import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError, type HttpTransport } from '../src/transport/http-transport.js';
import { createUndiciTransport } from '../src/transport/undici-transport.js';

const TIMEOUTS = { connectMs: 1000, firstByteMs: 2000, idleMs: 2000 };

let server: Server | null = null;
let transport: HttpTransport | null = null;
afterEach(async () => {
  await transport?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server?.closeAllConnections();
  server = transport = null;
});

/** A real HTTP server on loopback; `closed` resolves when a request's connection closes before its answer finished. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  transport = createUndiciTransport({ maxResponseBytes: 4 * 1024 * 1024, connectTimeoutMs: 1000 });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = (origin: string, signal = new AbortController().signal) =>
  (transport as HttpTransport).post(origin, '/x', { 'content-type': 'application/json' }, Buffer.from('{}'), { signal, timeouts: TIMEOUTS });

describe('undici transport replies', () => {
  it('gives status, headers and the whole text, without a UTF-8 byte order mark', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-thing': 'a' });
      res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":"é"}')]));
    });
    const reply = await post(origin);
    expect(reply.status).toBe(201);
    expect(reply.contentType).toBe('application/json');
    expect(reply.header('x-thing')).toBe('a');
    expect(reply.header('x-missing')).toBeNull();
    expect(await reply.text()).toBe('{"ok":"é"}');
  });

  it('is a plain object: providers spread it and pass header() around unbound', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"a":1}');
    });
    const reply = { ...(await post(origin)), contentType: 'text/plain' };
    const { header } = reply;
    expect(header('retry-after')).toBe('7');
    expect(reply.contentType).toBe('text/plain');
    expect(await reply.text()).toBe('{"a":1}');
  });

  it('stamps firstByteAt when the headers arrive, not when the body ends', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      setTimeout(() => res.end('{"late":true}'), 300);
    });
    const sent = performance.now();
    const reply = await post(origin);
    const resolved = performance.now();
    expect(reply.firstByteAt).toBeGreaterThanOrEqual(sent);
    expect(reply.firstByteAt).toBeLessThanOrEqual(resolved);
    // Spread like a provider reshapes it, the stamp stays.
    const shaped = { ...reply, contentType: 'application/json; charset=utf-8' };
    expect(await shaped.text()).toBe('{"late":true}');
    expect(performance.now() - shaped.firstByteAt).toBeGreaterThanOrEqual(250);
  });

  it('streams a large body in order to a slow reader (the socket pauses and resumes)', async () => {
    const piece = Buffer.alloc(16 * 1024, 'x');
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const more = () => {
        while (sent < 64) {
          sent++;
          if (!res.write(Buffer.concat([Buffer.from(`${String(sent).padStart(4, '0')}`), piece]))) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const reply = await post(origin);
    const received: Buffer[] = [];
    for await (const chunk of reply.body) {
      received.push(Buffer.from(chunk));
      await new Promise((r) => setImmediate(r));
    }
    const all = Buffer.concat(received);
    expect(all.length).toBe(64 * (4 + piece.length));
    for (let i = 0; i < 64; i++) expect(all.subarray(i * (4 + piece.length), i * (4 + piece.length) + 4).toString()).toBe(String(i + 1).padStart(4, '0'));
  });

  it('closes the connection when the body is discarded or the reader leaves early, and when the signal aborts', async () => {
    let closedEarly = 0;
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      res.once('close', () => {
        if (!res.writableFinished) closedEarly++;
      });
    });
    const discarded = await post(origin);
    discarded.discard();

    const leftEarly = await post(origin);
    for await (const _chunk of leftEarly.body) break;

    const controller = new AbortController();
    const aborted = await post(origin, controller.signal);
    const reading = aborted.text();
    controller.abort(new Error('client gone'));
    await expect(reading).rejects.toMatchObject({ phase: 'aborted' });

    for (let i = 0; i < 100 && closedEarly < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(closedEarly).toBe(3);
  });

  it('fails with a classified TransportError before the headers: refused, aborted, too slow', async () => {
    const origin = await serve((_req, res) => void setTimeout(() => res.end('late'), 5000));
    const port = Number(new URL(origin).port);
    server?.close();
    server?.closeAllConnections();
    await new Promise((r) => setTimeout(r, 50));
    const refused = await post(`http://127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TransportError);
    expect((refused as TransportError).phase).toBe('connect');

    const slowOrigin = await serve((_req, res) => void setTimeout(() => res.end('late'), 3000));
    const tooSlow = await (transport as HttpTransport)
      .post(slowOrigin, '/x', {}, Buffer.from('{}'), { signal: new AbortController().signal, timeouts: { ...TIMEOUTS, firstByteMs: 100 } })
      .catch((e: unknown) => e);
    expect((tooSlow as TransportError).phase).toBe('first_byte');

    const controller = new AbortController();
    const pending = post(slowOrigin, controller.signal).catch((e: unknown) => e);
    controller.abort();
    expect(((await pending) as TransportError).phase).toBe('aborted');
  });
});
