/**
 * Transport over the platform's fetch, for Cloudflare Workers (where there
 * is no undici and no socket-level hook). It keeps the undici transport's
 * rules: never follow redirects (`redirect: 'manual'`: a 3xx is the miner's
 * answer, not a hop the gateway takes), cap the response size, time out the
 * first byte and every silence in the body, abort on the caller's signal,
 * and hand the body on chunk by chunk as it arrives, never buffered.
 *
 * Connect and first byte share one timer here: fetch does not say when the
 * connection was made. Chain axons are IP literals, so checking the origin's
 * address before the request is the same check the undici connector makes
 * at connect time (there is no DNS answer to differ from it).
 */
import { blockedAddressClass, isAddressAllowed, type AddressPolicy } from '../router/address-guard.js';
import { TransportError, type HttpTransport, type UpstreamReply } from './http-transport.js';

export interface FetchTransportOptions {
  readonly maxResponseBytes: number;
  /** Set for upstreams published on chain: blocked address classes are refused. */
  readonly addressPolicy?: AddressPolicy;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
}

function hostOf(origin: string): string {
  const host = new URL(origin).hostname;
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** Fails with `error` after `ms`, aborting the request; clear() when the awaited step arrived in time. */
function deadline(ms: number, controller: AbortController, error: () => TransportError) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = error();
      controller.abort(err);
      reject(err);
    }, ms);
  });
  expired.catch(() => {}); // nobody may be racing it when it fires
  return { expired, clear: () => clearTimeout(timer) };
}

function classify(err: unknown, signal: AbortSignal): TransportError {
  if (err instanceof TransportError) return err;
  if (signal.aborted) return new TransportError('request aborted', 'aborted');
  const message = err instanceof Error ? err.message : String(err);
  return new TransportError(message, 'connect');
}

export function createFetchTransport(options: FetchTransportOptions): HttpTransport {
  const doFetch = options.fetch ?? fetch;

  return {
    async post(origin, path, headers, body, { signal, timeouts }) {
      if (options.addressPolicy) {
        const host = hostOf(origin);
        if (!isAddressAllowed(host, options.addressPolicy)) {
          const cls = (blockedAddressClass(host) ?? 'invalid').replace('_', '-');
          throw new TransportError(`refused to connect to ${host}: ${cls} address`, 'blocked');
        }
      }
      if (signal.aborted) throw new TransportError('request aborted', 'aborted');
      // Our own controller: timeouts abort it too, and the caller's signal is linked in.
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const unlink = () => signal.removeEventListener('abort', onAbort);

      const firstByte = deadline(timeouts.connectMs + timeouts.firstByteMs, controller, () => new TransportError(`no response headers within ${timeouts.connectMs + timeouts.firstByteMs} ms`, 'first_byte'));
      let response: Response;
      try {
        response = await Promise.race([
          doFetch(origin + path, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer>, redirect: 'manual', signal: controller.signal }),
          firstByte.expired,
        ]);
      } catch (err) {
        unlink();
        throw classify(err, signal);
      } finally {
        firstByte.clear();
      }
      // fetch resolves at the response headers: that is the first byte.
      const firstByteAt = performance.now();

      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared > options.maxResponseBytes) {
        unlink();
        controller.abort();
        void response.body?.cancel().catch(() => {});
        throw new TransportError('response larger than MAX_RESPONSE_BYTES', 'too_large');
      }

      const reader = response.body?.getReader() ?? null;
      let consumed = false;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        if (consumed) throw new Error('the upstream body was already read');
        consumed = true;
        if (!reader) return;
        let received = 0;
        try {
          while (true) {
            const idle = deadline(timeouts.idleMs, controller, () => new TransportError(`no data for ${timeouts.idleMs} ms`, 'body'));
            let step: ReadableStreamReadResult<Uint8Array>;
            try {
              step = await Promise.race([reader.read(), idle.expired]);
            } finally {
              idle.clear();
            }
            if (step.done) return;
            received += step.value.byteLength;
            if (received > options.maxResponseBytes) {
              controller.abort();
              throw new TransportError('response larger than MAX_RESPONSE_BYTES', 'too_large');
            }
            yield step.value;
          }
        } catch (err) {
          if (err instanceof TransportError) throw err;
          if (signal.aborted) throw new TransportError('request aborted', 'aborted');
          throw new TransportError(err instanceof Error ? err.message : String(err), 'body');
        } finally {
          unlink();
          void reader.cancel().catch(() => {});
        }
      }

      const reply: UpstreamReply = {
        status: response.status,
        contentType: response.headers.get('content-type') ?? '',
        firstByteAt,
        header: (name) => response.headers.get(name),
        body: { [Symbol.asyncIterator]: chunks },
        async text() {
          const decoder = new TextDecoder();
          let text = '';
          for await (const chunk of chunks()) text += decoder.decode(chunk, { stream: true });
          return text + decoder.decode();
        },
        discard() {
          unlink();
          if (!consumed) {
            consumed = true;
            void reader?.cancel().catch(() => {});
          }
          controller.abort();
        },
      };
      return reply;
    },
    async close() {
      // Nothing pooled to close: the platform owns the connections.
    },
  };
}
