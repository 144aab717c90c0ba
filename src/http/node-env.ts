/**
 * What @hono/node-server hands every handler as `c.env` on Node: the
 * request's IncomingMessage and ServerResponse. On Workers (or Hono's
 * app.request in tests) there are none, so each accessor returns null and
 * the caller takes the portable path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

interface NodeBindings {
  readonly incoming?: IncomingMessage;
  readonly outgoing?: ServerResponse;
}

export function nodeIncoming(env: unknown): IncomingMessage | null {
  return (env as NodeBindings | undefined)?.incoming ?? null;
}

export function nodeOutgoing(env: unknown): ServerResponse | null {
  const outgoing = (env as NodeBindings | undefined)?.outgoing;
  // HTTP/2 responses have setHeader too; anything else is not ours to touch.
  return outgoing && typeof outgoing.setHeader === 'function' ? outgoing : null;
}
