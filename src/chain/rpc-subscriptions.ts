/**
 * The subscriptions of one JSON-RPC connection, apart from the socket that
 * carries them: which callback a notification goes to, notifications that
 * arrive before the reply carrying their subscription id (a node may send
 * the first one at once), and the list to re-send after a reconnect.
 * Keyed `${type}::${subscription id}`, as @polkadot/api's WsProvider keys them.
 */
import type { ApiOptions } from '@polkadot/api/types';
import { rpcErrorFrom } from './json-rpc-frame.js';

type ProviderInterface = NonNullable<ApiOptions['provider']>;
export type SubscriptionCallback = Parameters<ProviderInterface['subscribe']>[3];

export interface SubscriptionRecord {
  readonly type: string;
  readonly method: string;
  readonly params: unknown[];
  readonly callback: SubscriptionCallback;
}

type NotificationParams = Readonly<Record<string, unknown>>;

/** Substrate nodes historically spell "finalised" both ways. */
const NOTIFICATION_ALIASES: Readonly<Record<string, string>> = {
  chain_finalisedHead: 'chain_finalizedHead',
};

/** Early notifications held at most: a node spamming unknown subscriptions must not grow memory. */
const MAX_EARLY = 64;

const keyOf = (type: string, id: number | string) => `${type}::${id}`;

export class RpcSubscriptions {
  #records = new Map<string, SubscriptionRecord>();
  readonly #early = new Map<string, NotificationParams>();

  /** `onCallbackError`: a throwing subscriber must not take the socket handler down with it. */
  constructor(private readonly onCallbackError: (error: unknown) => void) {}

  /** Registers the subscription `id` the node returned, and hands it a notification that came first. */
  add(id: number | string, record: SubscriptionRecord): void {
    const key = keyOf(record.type, id);
    this.#records.set(key, record);
    const early = this.#early.get(key);
    if (early !== undefined) {
      this.#early.delete(key);
      this.#deliver(key, early);
    }
  }

  /** False when no such subscription was held. */
  remove(type: string, id: number | string): boolean {
    return this.#records.delete(keyOf(type, id));
  }

  /** A notification frame: to its subscriber, or held until the subscription's id is known. */
  notify(method: string, subscription: number | string, params: NotificationParams): void {
    const key = keyOf(NOTIFICATION_ALIASES[method] ?? method, subscription);
    if (this.#records.has(key)) this.#deliver(key, params);
    else if (this.#early.size < MAX_EARLY) this.#early.set(key, params);
  }

  /** The connection is gone: notifications held for it belong to subscriptions that no longer exist. */
  clearEarly(): void {
    this.#early.clear();
  }

  /** Empties the table and returns what it held: after a reconnect the node knows none of them. */
  takeAll(): SubscriptionRecord[] {
    const records = [...this.#records.values()];
    this.#records = new Map();
    return records;
  }

  #deliver(key: string, params: NotificationParams): void {
    const record = this.#records.get(key);
    if (!record) return;
    const error = rpcErrorFrom(params.error);
    try {
      if (error) record.callback(error, undefined);
      else record.callback(null, params.result);
    } catch (callbackError) {
      this.onCallbackError(callbackError);
    }
  }
}
