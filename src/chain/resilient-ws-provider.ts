/**
 * A JSON-RPC WebSocket provider for @polkadot/api, used instead of its
 * WsProvider for three reasons found while testing against a misbehaving
 * node:
 *  - WsProvider JSON.parse()s every frame inside the socket's message
 *    handler, so one non-JSON frame (a proxy's HTML error page) becomes an
 *    uncaught exception that kills the gateway. Here it is reported and dropped.
 *  - WsProvider retries a dead endpoint at a fixed 2.5 s forever; here the
 *    delay grows exponentially up to a cap, and every attempt is reported.
 *  - Requests time out after a configurable, short per-call limit, so a node
 *    that accepts a call and never answers cannot hold up a sync.
 *  - @polkadot/api subscribes to runtime-version updates with no error
 *    handler: a subscription request that fails while the api listens
 *    becomes an uncaught exception (rxjs rethrows it on a timer) that kills
 *    the gateway. Here a subscription request never fails on its own: it has
 *    no time limit, and an error answer closes the connection. It fails with
 *    the connection, after 'disconnected', when the api no longer listens.
 * Semantics otherwise follow WsProvider: events 'connected' / 'disconnected'
 * / 'error', subscriptions re-sent after a reconnect. This file owns the
 * socket (connect, reconnect with backoff, heartbeat, request/reply); the
 * subscription table is src/chain/rpc-subscriptions.ts.
 */
import WebSocket, { type RawData } from 'ws';
import type { ApiOptions } from '@polkadot/api/types';
import { parseJsonRpcFrame } from './json-rpc-frame.js';
import { RpcSubscriptions, type SubscriptionCallback } from './rpc-subscriptions.js';

/** A connection up at least this long (or the backoff cap, if longer) resets the reconnect backoff. */
const STABLE_CONNECTION_MS = 10_000;

export { RpcResponseError } from './json-rpc-frame.js';

type ProviderInterface = NonNullable<ApiOptions['provider']>;
type ProviderEvent = Parameters<ProviderInterface['on']>[0];
type ProviderListener = Parameters<ProviderInterface['on']>[1];

export interface ProviderConnectionStatus {
  readonly connected: boolean;
  /** Why the last attempt or connection failed; null while connected. */
  readonly error: string | null;
  /** Delay before the next connection attempt, when one is scheduled. */
  readonly retryInMs: number | null;
}

export interface ResilientWsProviderOptions {
  readonly url: string;
  /** Per-request limit (also the WebSocket handshake limit). */
  readonly requestTimeoutMs: number;
  /** Reconnect delay: base × 2^attempt, at most cap. */
  readonly backoff: { readonly baseMs: number; readonly capMs: number };
  /** How often the socket is pinged; a missing pong by the next ping drops it. */
  readonly heartbeatMs?: number;
  /** Frames that are not JSON-RPC, reported so the owner can log them. */
  readonly onBadFrame?: (description: string) => void;
}

interface PendingRequest {
  readonly method: string;
  readonly kind: 'call' | 'subscription';
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  /** A call's time limit; null for a subscription request. */
  readonly timer: NodeJS.Timeout | null;
}

export class ResilientWsProvider implements ProviderInterface {
  readonly hasSubscriptions = true;
  readonly isClonable = false;
  readonly #options: ResilientWsProviderOptions;
  readonly #listeners = new Map<ProviderEvent, Set<ProviderListener>>();
  readonly #statusListeners = new Set<(status: ProviderConnectionStatus) => void>();
  readonly #pending = new Map<number, PendingRequest>();
  readonly #subscriptions = new RpcSubscriptions((error) => this.#emit('error', error));
  #socket: WebSocket | null = null;
  #connected = false;
  #wanted = false;
  #attempt = 0;
  /** When the current connection opened (Date.now()), for telling a lasting connection from one that drops at once. */
  #openedAt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #awaitingPong = false;
  #nextId = 1;
  #lastError: string | null = null;

  constructor(options: ResilientWsProviderOptions) {
    if (!/^wss?:\/\//.test(options.url)) throw new Error(`not a ws:// or wss:// URL: ${options.url}`);
    this.#options = options;
  }

  get isConnected(): boolean {
    return this.#connected;
  }

  get url(): string {
    return this.#options.url;
  }

  clone(): ProviderInterface {
    throw new Error('ResilientWsProvider cannot be cloned');
  }

  /** Starts connecting (and reconnecting on loss) in the background; never rejects. */
  async connect(): Promise<void> {
    if (this.#wanted) return;
    this.#wanted = true;
    this.#open();
  }

  /** Stops reconnecting and closes the socket; pending requests fail. */
  async disconnect(): Promise<void> {
    this.#wanted = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const socket = this.#socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      // terminate(), not close(): a stalled peer must not hold shutdown up.
      socket.terminate();
    });
  }

  /** Closes the current connection so the normal reconnect path runs (e.g. after a failed api init). */
  dropConnection(reason: string): void {
    this.#lastError = reason;
    this.#socket?.terminate();
  }

  on(type: ProviderEvent, listener: ProviderListener): () => void {
    const set = this.#listeners.get(type) ?? new Set<ProviderListener>();
    set.add(listener);
    this.#listeners.set(type, set);
    return () => set.delete(listener);
  }

  /** Connection state changes and failed attempts, with the error and the retry delay. */
  onStatus(listener: (status: ProviderConnectionStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  send<T = unknown>(method: string, params: unknown[], _isCacheable?: boolean): Promise<T> {
    return this.#request(method, params) as Promise<T>;
  }

  async subscribe(type: string, method: string, params: unknown[], callback: SubscriptionCallback): Promise<number | string> {
    const id = await this.#request(method, params, 'subscription');
    if (typeof id !== 'string' && typeof id !== 'number') throw new Error(`${method} returned no subscription id`);
    this.#subscriptions.add(id, { type, method, params, callback });
    return id;
  }

  async unsubscribe(type: string, method: string, id: number | string): Promise<boolean> {
    if (!this.#subscriptions.remove(type, id)) return false;
    if (!this.#connected) return true;
    const result = await this.#request(method, [id]).catch(() => false);
    return result === true;
  }

  #emit(type: ProviderEvent, value?: unknown): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(value);
  }

  #emitStatus(retryInMs: number | null): void {
    const status = { connected: this.#connected, error: this.#lastError, retryInMs };
    for (const listener of this.#statusListeners) listener(status);
  }

  #request(method: string, params: unknown[], kind: PendingRequest['kind'] = 'call'): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = this.#socket;
      if (!this.#connected || !socket) {
        reject(new Error(`${method}: not connected to ${this.#options.url}${this.#lastError ? ` (${this.#lastError})` : ''}`));
        return;
      }
      const id = this.#nextId++;
      const timer =
        kind === 'call'
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(new Error(`${method}: no answer from ${this.#options.url} within ${this.#options.requestTimeoutMs} ms`));
            }, this.#options.requestTimeoutMs)
          : null;
      this.#pending.set(id, { method, kind, resolve, reject, timer });
      socket.send(JSON.stringify({ id, jsonrpc: '2.0', method, params }));
    });
  }

  #open(): void {
    this.#retryTimer = null;
    if (!this.#wanted) return;
    const socket = new WebSocket(this.#options.url, { handshakeTimeout: this.#options.requestTimeoutMs });
    this.#socket = socket;
    socket.on('open', () => this.#onOpen());
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('pong', () => (this.#awaitingPong = false));
    socket.on('error', (error) => {
      this.#lastError = error.message || String(error);
      this.#emit('error', error);
    });
    socket.on('close', (code, reason) => this.#onClose(socket, code, reason.toString()));
  }

  #onOpen(): void {
    this.#connected = true;
    // The backoff is reset only once a connection has lasted (#onClose): a node that accepts and then
    // drops every connection (one refusing the api's subscriptions) must not be redialled every base delay.
    this.#openedAt = Date.now();
    this.#lastError = null;
    this.#startHeartbeat();
    this.#emitStatus(null);
    this.#emit('connected');
    this.#resubscribe();
  }

  #onClose(socket: WebSocket, code: number, reason: string): void {
    if (this.#socket !== socket) return;
    this.#socket = null;
    const wasConnected = this.#connected;
    this.#connected = false;
    this.#stopHeartbeat();
    if (wasConnected && !this.#lastError) this.#lastError = `connection closed (code ${code}${reason ? `: ${reason}` : ''})`;
    const error = new Error(`disconnected from ${this.#options.url}: ${this.#lastError ?? `code ${code}`}`);
    // Settled after 'disconnected' below is emitted (a promise reaction runs later), so the api has stopped listening.
    for (const [id, pending] of this.#pending) {
      if (pending.timer) clearTimeout(pending.timer);
      pending.reject(error);
      this.#pending.delete(id);
    }
    this.#subscriptions.clearEarly();
    let retryInMs: number | null = null;
    if (this.#wanted) {
      const { baseMs, capMs } = this.#options.backoff;
      // A connection that lasted longer than the longest delay was a working one: start the backoff over.
      if (wasConnected && Date.now() - this.#openedAt >= Math.max(capMs, STABLE_CONNECTION_MS)) this.#attempt = 0;
      // Up to 20 % jitter so replicas that lost the same node do not retry in lockstep,
      // applied before the cap so that no delay exceeds it.
      retryInMs = Math.round(Math.min(capMs, baseMs * 2 ** this.#attempt * (1 + Math.random() * 0.2)));
      this.#attempt = Math.min(this.#attempt + 1, 30);
      this.#retryTimer = setTimeout(() => this.#open(), retryInMs);
    }
    this.#emitStatus(retryInMs);
    if (wasConnected) this.#emit('disconnected');
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const frame = parseJsonRpcFrame(isBinary ? null : data.toString());
    switch (frame.kind) {
      case 'bad':
        this.#options.onBadFrame?.(`${frame.description} (from ${this.#options.url})`);
        return;
      case 'notification':
        this.#subscriptions.notify(frame.method, frame.subscription, frame.params);
        return;
      case 'result':
      case 'error': {
        const pending = this.#pending.get(frame.id);
        if (!pending) return; // timed out already, or not ours
        if (frame.kind === 'error' && pending.kind === 'subscription') {
          // Failing it now would reach an api still listening (see the header): it fails with the connection.
          this.dropConnection(`${pending.method} refused: ${frame.error.message}`);
          return;
        }
        this.#pending.delete(frame.id);
        if (pending.timer) clearTimeout(pending.timer);
        if (frame.kind === 'error') pending.reject(frame.error);
        else pending.resolve(frame.result);
        return;
      }
    }
  }

  /** After a reconnect the node knows none of our subscriptions: ask again. */
  #resubscribe(): void {
    for (const record of this.#subscriptions.takeAll()) {
      this.subscribe(record.type, record.method, record.params, record.callback).catch((error: Error) => this.#emit('error', error));
    }
  }

  #startHeartbeat(): void {
    const every = this.#options.heartbeatMs ?? 30_000;
    this.#awaitingPong = false;
    this.#heartbeat = setInterval(() => {
      const socket = this.#socket;
      if (!socket) return;
      if (this.#awaitingPong) {
        this.dropConnection(`no pong within ${every} ms`);
        return;
      }
      this.#awaitingPong = true;
      socket.ping();
    }, every);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }
}
