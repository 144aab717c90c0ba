/**
 * The relay of a led stream to other replicas' followers (replica-stream.ts)
 * through a store that is slow once: the real SharedTier over the in-memory
 * store (which blocks reads and broadcasts like Redis), with one call of the
 * store held back longer than CACHE_STORE_TIMEOUT_MS.
 */
import { describe, expect, it } from 'vitest';
import type { Upstream } from '../providers/provider.js';
import { HeldClaim } from '../src/cache/replica-claim.js';
import type { StreamOrigin } from '../src/cache/relay-log.js';
import { findStream, ReplicaStream } from '../src/cache/replica-stream.js';
import type { CacheEntry } from '../src/cache/cache-entry.js';
import { SharedTier } from '../src/cache/shared-tier.js';
import type { StreamPublisher } from '../src/cache/stream-publisher.js';
import { silentLogger } from '../src/log.js';
import { createMemoryStore } from '../src/store/memory.js';
import type { Store } from '../src/store/store.js';

const STORE_TIMEOUT_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The memory store, with the answer of the next call `hold` names held back `ms` (the call itself runs at once). */
function slowOnce() {
  const inner = createMemoryStore();
  let held: { op: 'logAppend' | 'get' | 'logRead'; ms: number; seen: () => void } | null = null;
  const delayed = async <T>(op: 'logAppend' | 'get' | 'logRead', run: () => Promise<T>): Promise<T> => {
    const result = await run();
    if (held?.op === op) {
      const { ms, seen } = held;
      held = null;
      seen();
      await sleep(ms);
    }
    return result;
  };
  const store: Store = {
    ...inner,
    get: (key) => delayed('get', () => inner.get(key)),
    logAppend: (key, values, options) => delayed('logAppend', () => inner.logAppend(key, values, options)),
    logRead: (key, after, options) => delayed('logRead', () => inner.logRead(key, after, options)),
  };
  const hold = (op: 'logAppend' | 'get' | 'logRead', ms: number) => new Promise<void>((seen) => (held = { op, ms, seen }));
  return { store, hold };
}

const origin = { endpoint: 'chat', upstream: { id: 'miner-a' } as unknown as Upstream, servedModel: 'sn4/m', snapshot: { version: 'v1', block: null } } as StreamOrigin;
const chunk = (content: string, finish: string | null = null) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

const LEADER = 'stream-leader';

/** Takes `key`'s claim as the replica leading its stream, and starts relaying it. */
async function lead(tier: SharedTier, key: string): Promise<{ claim: HeldClaim; publisher: StreamPublisher }> {
  await tier.claim(key, LEADER, 5_000);
  const claim = new HeldClaim(tier, key, LEADER, 5_000);
  const publisher = claim.relayStream(origin, 1_000_000, (t) => t);
  if (!publisher) throw new Error('this store relays no streams');
  return { claim, publisher };
}

/** Follows the claim `token`'s stream on `key` to its end: the events it got, or the error it ended with. */
async function follow(tier: SharedTier, key: string, token: string, maxKeepChars = 1_000_000): Promise<{ events: string[]; error: string | null; entry: CacheEntry | null; stream: ReplicaStream }> {
  const found = await findStream(tier, key, token);
  if (!found) throw new Error('no stream found');
  let entry: CacheEntry | null = null;
  const stream = new ReplicaStream(tier, key, found, { signal: new AbortController().signal, ttlS: 60, maxKeepChars, onEnd: (e) => (entry = e) });
  const source = stream.attach();
  const events: string[] = [];
  try {
    for await (const event of source?.events ?? []) events.push(event);
    return { events, error: null, entry, stream };
  } catch (err) {
    return { events, error: err instanceof Error ? err.message : String(err), entry, stream };
  }
}

describe('relaying a stream through a store that is slow once', () => {
  it('an append answered past CACHE_STORE_TIMEOUT_MS does not cut the relay, and a batch it landed twice reaches followers once', async () => {
    const { store, hold } = slowOnce();
    const tier = new SharedTier(store, silentLogger(), STORE_TIMEOUT_MS);
    const key = 'slow-append';
    const { claim, publisher } = await lead(tier, key);
    try {
      // The first batch (header and first event) lands at once, but its answer comes 150 ms later: past 50 ms.
      const held = hold('logAppend', 150);
      publisher.event(chunk('one'));
      await held;
      publisher.event(chunk('two'));
      publisher.event(chunk('three'));
      publisher.end(null);
      await publisher.drained();
      expect(publisher.relaying).toBe(false);
      // Let go once every append landed: a follower that finds no end marker in the log ends with an error.
      await claim.release(true);
      const followed = await follow(tier, key, LEADER);
      expect(followed.error).toBeNull();
      expect(followed.events).toEqual([chunk('one'), chunk('two'), chunk('three')]);
    } finally {
      await claim.release(true);
      await tier.close();
    }
  });

  it('a follower whose look at the claim goes unanswered asks again instead of ending its stream', async () => {
    const { store, hold } = slowOnce();
    const tier = new SharedTier(store, silentLogger(), STORE_TIMEOUT_MS);
    const key = 'slow-holder';
    const { claim, publisher } = await lead(tier, key);
    try {
      publisher.event(chunk('one'));
      await publisher.drained();
      // The follower blocks on the log for a second, then looks at the claim: that look is answered too late.
      const held = hold('get', 150);
      const following = follow(tier, key, LEADER);
      await held;
      await sleep(200);
      publisher.event(chunk('two'));
      publisher.end(null);
      const followed = await following;
      expect(followed.error).toBeNull();
      expect(followed.events).toEqual([chunk('one'), chunk('two')]);
    } finally {
      await claim.release(true);
      await tier.close();
    }
  });

  it('a blocking read that outlasts its wait answers nothing, and the store is not taken for down', async () => {
    const { store, hold } = slowOnce();
    const tier = new SharedTier(store, silentLogger(), STORE_TIMEOUT_MS);
    try {
      void hold('logRead', 1_000);
      const read = await tier.readStream('quiet', LEADER, '0', 10, 100);
      expect(read).toEqual([]);
      expect(tier.up).toBe(true);
      expect(tier.errors).toBe(0);
    } finally {
      await tier.close();
    }
  });

  it('a follower keeps the relayed answer for JSON followers within the entry cap; past it, it relays every event but keeps none of them', async () => {
    const { store } = slowOnce();
    const tier = new SharedTier(store, silentLogger(), STORE_TIMEOUT_MS);
    try {
      const events = [chunk('alpha'), chunk('beta'), chunk('gamma'), chunk('', 'stop')];
      for (const [key, maxKeepChars] of [['within-cap', 1_000_000], ['past-cap', events[0]?.length ?? 0]] as const) {
        const { claim, publisher } = await lead(tier, key);
        for (const event of events) publisher.event(event);
        publisher.end(null);
        await claim.release(true);
        const followed = await follow(tier, key, LEADER, maxKeepChars);
        expect(followed.error).toBeNull();
        expect(followed.events).toEqual(events);
        if (key === 'within-cap') {
          expect(followed.entry?.events).toEqual(events);
          expect(followed.stream.attach()).not.toBeNull();
        } else {
          expect(followed.entry).toBeNull();
          // Its start is gone: a late reader calls on its own.
          expect(followed.stream.attach()).toBeNull();
        }
      }
    } finally {
      await tier.close();
    }
  });
});
