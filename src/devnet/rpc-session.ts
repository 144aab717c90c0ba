/**
 * One WebSocket client of the devnet node: its subscriptions and what each
 * was last sent, so storage subscriptions only carry changes, as on a real
 * node.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { recordedRuntimeVersion } from './chain-fixtures.js';
import { notificationMethod } from './rpc-methods.js';
import type { RpcContext, RpcSession, SubscriptionTopic } from './rpc-types.js';

interface Subscription {
  readonly topic: SubscriptionTopic;
  readonly keys: readonly string[];
  /** storage key → value last sent */
  readonly sent: Map<string, string | null>;
}

export class DevnetRpcSession implements RpcSession {
  readonly #socket: WebSocket;
  readonly #ctx: RpcContext;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Subscriptions whose first notification goes out after the reply that created them. */
  #pendingFirst: string[] = [];

  constructor(socket: WebSocket, ctx: RpcContext) {
    this.#socket = socket;
    this.#ctx = ctx;
  }

  subscribe(topic: SubscriptionTopic, keys: readonly string[]): string {
    const id = randomBytes(8).toString('hex');
    this.#subscriptions.set(id, { topic, keys, sent: new Map() });
    this.#pendingFirst.push(id);
    return id;
  }

  unsubscribe(id: string): boolean {
    return this.#subscriptions.delete(id);
  }

  send(message: unknown): void {
    this.sendText(JSON.stringify(message));
  }

  sendText(text: string): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(text);
  }

  /** Sends the first notification of subscriptions created by the request just answered. */
  flushFirstNotifications(): void {
    const ids = this.#pendingFirst;
    this.#pendingFirst = [];
    for (const id of ids) this.#notify(id, true);
  }

  /** A new block: heads and changed storage go out to their subscribers. */
  onNewBlock(): void {
    for (const id of this.#subscriptions.keys()) this.#notify(id, false);
  }

  #notify(id: string, first: boolean): void {
    const sub = this.#subscriptions.get(id);
    if (!sub) return;
    const payload = this.#payload(sub, first);
    if (payload === null) return;
    this.send({ jsonrpc: '2.0', method: notificationMethod(sub.topic), params: { subscription: id, result: payload } });
  }

  #payload(sub: Subscription, first: boolean): unknown {
    const { blocks, state } = this.#ctx;
    switch (sub.topic) {
      case 'newHead':
      case 'allHead':
      case 'finalizedHead':
        return blocks.header(blocks.head());
      case 'runtimeVersion':
        // The devnet never upgrades its runtime: one notification only.
        return first ? recordedRuntimeVersion() : null;
      case 'storage': {
        const changes: Array<[string, string | null]> = [];
        for (const key of sub.keys) {
          const value = state.storage(key);
          if (first || sub.sent.get(key) !== value) changes.push([key, value]);
          sub.sent.set(key, value);
        }
        return changes.length > 0 ? { block: blocks.hashOf(blocks.head()), changes } : null;
      }
    }
  }
}
