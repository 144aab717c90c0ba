/**
 * How a route says what it is, for GET /openapi.json and /docs: put
 * `describeRoute({...})` first in the route's handler chain. It does nothing
 * at request time; the document is built by walking the app's registered
 * routes and reading these descriptions off their handlers, so a route
 * cannot be documented under a path or method it does not serve, and
 * test/openapi.test.ts fails for any registered route without one.
 */
import type { MiddlewareHandler } from 'hono';
import type { z } from 'zod';

/** A zod schema and the name it gets under components.schemas. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

export interface ResponseDoc {
  readonly description: string;
  readonly json?: NamedSchema;
  /** For routes that answer `text/event-stream` when asked to stream: what the events are. */
  readonly eventStream?: string;
  readonly html?: boolean;
  /** A `text/plain` body (e.g. Prometheus exposition). */
  readonly text?: boolean;
}

export interface ParameterDoc {
  readonly description: string;
  readonly schema?: z.ZodType;
  readonly required?: boolean;
}

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /**
   * `api-key`: Authorization Bearer or x-api-key; `admin`: Bearer ADMIN_TOKEN;
   * `metrics`: Bearer METRICS_TOKEN (or local clients when unset); `public`: none.
   */
  readonly auth: 'api-key' | 'admin' | 'metrics' | 'public';
  /** Path parameters, by name (the path itself says which exist). */
  readonly params?: Readonly<Record<string, ParameterDoc>>;
  readonly query?: Readonly<Record<string, ParameterDoc>>;
  readonly headers?: Readonly<Record<string, ParameterDoc>>;
  readonly body?: NamedSchema;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Error statuses this route may answer, described in its error envelope. */
  readonly errors?: readonly number[];
  /** Default `openai`; the Messages API answers errors in Anthropic's envelope. */
  readonly errorEnvelope?: 'openai' | 'anthropic';
}

const ROUTE_DOC = Symbol.for('taogate.routeDoc');

type Described = MiddlewareHandler & { [ROUTE_DOC]?: RouteDoc };

export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  // Passes straight through: no async frame of its own on every request.
  const middleware: Described = (_c, next) => next();
  middleware[ROUTE_DOC] = doc;
  return middleware;
}

export function routeDocOf(handler: unknown): RouteDoc | undefined {
  return typeof handler === 'function' ? (handler as Described)[ROUTE_DOC] : undefined;
}
