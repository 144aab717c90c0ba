/**
 * The metagraph from subtensor: every refresh, pin the finalized block, make
 * ONE `get_neurons_lite` runtime call per configured subnet, decode, rank by
 * the RANK_BY chain and swap in a new immutable snapshot. A dead or
 * misbehaving node never takes the gateway down: the last good snapshot is
 * served (also across restarts, from the store) while the source reconnects.
 */
import type { ApiPromise } from '@polkadot/api';
import type { ApiOptions } from '@polkadot/api/types';
import type { Logger } from '../log.js';
import type { AddressPolicy } from '../router/address-guard.js';
import type { Store } from '../store/store.js';
import { rankWithPolicyChain } from './policy-chain.js';
import { parseRankBy, type RankPolicy } from './rank-policy.js';
import { ResilientWsProvider } from './resilient-ws-provider.js';
import { rerankRestoredSnapshot } from './restored-subnet.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_STORE_KEY } from './snapshot-codec.js';
import type { MetagraphSnapshot, MetagraphSource, SubnetSnapshot } from './snapshot.js';
import { SourceHealth } from './source-health.js';
import { createSubtensorApi } from './subtensor-api-options.js';
import { pinFinalizedBlock, readSubnetNeurons, readValidatorWeights, type PinnedBlock } from './subnet-reader.js';

type ProviderInterface = NonNullable<ApiOptions['provider']>;

export const DEFAULT_SNAPSHOT_STORE_KEY = SNAPSHOT_STORE_KEY;

export interface ChainSourceOptions {
  /** ws:// or wss:// (resolve aliases with resolveSubtensorUrl first). */
  readonly url: string;
  readonly netuids: readonly number[];
  readonly modelsFor: (netuid: number) => readonly string[];
  /** A RANK_BY string or an already parsed policy chain. */
  readonly rankBy: string | readonly RankPolicy[];
  readonly refreshMs: number;
  readonly addressPolicy: AddressPolicy;
  readonly store?: Store;
  readonly logger: Logger;
  /** 'devnet' when the embedded devnet reuses this source. */
  readonly kind?: 'chain' | 'devnet';
  /** Builds the api on the given provider (default: ApiPromise with the chain's own metadata). */
  readonly apiFactory?: (provider: ProviderInterface) => ApiPromise;
  /** Reconnect delay: base × 2^attempt up to cap (default 1 s … 30 s). */
  readonly reconnect?: { readonly baseMs: number; readonly capMs: number };
  /** Limit for each JSON-RPC call, so a node that never answers cannot stall a sync (default 20 s). */
  readonly callTimeoutMs?: number;
  /**
   * Without a restored snapshot, start() waits at most this long for the first sync attempt
   * to settle (default 10 s); with one it returns at once.
   */
  readonly startTimeoutMs?: number;
  readonly storeKey?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What operators need to see change: the policy in use and who is routable. */
function subnetSummary(s: SubnetSnapshot): string {
  return `${s.rankPolicy}|${s.ranked.map((m) => m.neuron.uid).join(',')}|${s.noRouteReason ?? ''}`;
}

export function createChainSource(options: ChainSourceOptions): MetagraphSource {
  const kind = options.kind ?? 'chain';
  const policies = typeof options.rankBy === 'string' ? parseRankBy(options.rankBy) : options.rankBy;
  if (policies.length === 0) throw new Error('createChainSource: rankBy has no policy');
  const storeKey = options.storeKey ?? DEFAULT_SNAPSHOT_STORE_KEY;
  const logger = options.logger.child({ component: 'chain-source', kind, endpoint: options.url });
  const listeners = new Set<(snapshot: MetagraphSnapshot) => void>();

  let snapshot: MetagraphSnapshot | null = null;
  const health = new SourceHealth(options.url, logger, () => snapshot !== null);
  let provider: ResilientWsProvider | null = null;
  let api: ApiPromise | null = null;
  let apiReady = false;
  let connectionDown = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;
  let syncAgain = false;
  let loggedSummary = '';
  let loggedBadFrame = '';
  let loggedPersistError = '';
  let settleFirstAttempt: () => void = () => {};

  function swap(next: MetagraphSnapshot): void {
    snapshot = next; // one reference assignment: readers keep whichever object they already hold
    for (const listener of listeners) {
      try {
        listener(next);
      } catch (error) {
        logger.error({ err: message(error) }, 'metagraph update listener threw');
      }
    }
  }

  async function restore(): Promise<void> {
    if (!options.store) return;
    try {
      const text = await options.store.get(storeKey);
      if (!text) return;
      const saved = decodeSnapshot(text, 'store');
      // Serve only subnets still configured, ranked under today's settings.
      const restored = rerankRestoredSnapshot(saved, options.netuids, options.modelsFor, options.addressPolicy);
      if (!restored || snapshot) return;
      swap(restored);
      logger.info({ block: saved.block, takenAt: new Date(saved.takenAt).toISOString() }, 'serving the saved metagraph while the chain connects');
    } catch (error) {
      logger.warn({ err: message(error) }, 'could not restore the saved metagraph; waiting for the chain');
    }
  }

  function persist(next: MetagraphSnapshot): void {
    options.store?.set(storeKey, encodeSnapshot(next)).then(
      () => (loggedPersistError = ''),
      (error: unknown) => {
        if (message(error) !== loggedPersistError) logger.warn({ err: message(error) }, 'could not save the metagraph snapshot');
        loggedPersistError = message(error);
      },
    );
  }

  async function syncSubnet(block: PinnedBlock, netuid: number): Promise<SubnetSnapshot> {
    const neurons = await readSubnetNeurons(block, netuid);
    const weights = new Map<number, Promise<Array<[number, number]>>>();
    return rankWithPolicyChain({
      netuid,
      neurons,
      block: block.number,
      models: options.modelsFor(netuid),
      policies,
      addressPolicy: options.addressPolicy,
      weightsOf: (uid) => {
        const cached = weights.get(uid) ?? readValidatorWeights(block, netuid, uid);
        weights.set(uid, cached);
        return cached;
      },
    });
  }

  async function syncOnce(current: ApiPromise): Promise<void> {
    const block = await pinFinalizedBlock(current);
    const previous = snapshot;
    const subnets = new Map<number, SubnetSnapshot>();
    const failures: string[] = [];
    const results = await Promise.allSettled(options.netuids.map((netuid) => syncSubnet(block, netuid)));
    results.forEach((result, i) => {
      const netuid = options.netuids[i] ?? -1;
      if (result.status === 'fulfilled') {
        subnets.set(netuid, result.value);
        return;
      }
      failures.push(`subnet ${netuid}: ${message(result.reason)}`);
      // A subnet that failed keeps its last good view (with its older block).
      const kept = previous?.subnets.get(netuid);
      if (kept) subnets.set(netuid, kept);
    });
    if (stopped) return;
    if (failures.length > 0 && failures.length === options.netuids.length) throw new Error(`sync at block ${block.number} failed: ${failures.join('; ')}`);
    const next: MetagraphSnapshot = Object.freeze({ source: kind, version: String(block.number), block: block.number, takenAt: Date.now(), subnets });
    swap(next);
    persist(next);
    const summary = [...subnets.values()].map(subnetSummary).join('\n');
    const fields = {
      block: block.number,
      subnets: [...subnets.values()].map((s) => ({ netuid: s.netuid, policy: s.rankPolicy, routable: s.ranked.length, noRouteReason: s.noRouteReason })),
    };
    if (summary !== loggedSummary) logger.info(fields, 'metagraph synced from chain');
    else logger.debug(fields, 'metagraph synced from chain (no change)');
    loggedSummary = summary;
    loggedBadFrame = '';
    if (failures.length > 0) health.fail(`sync at block ${block.number}: ${failures.join('; ')}`);
    else health.ok();
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(runSync, delayMs);
  }

  function runSync(): void {
    timer = null;
    if (inFlight) {
      syncAgain = true;
      return;
    }
    // Not connected or not initialised: the connect / ready events restart the loop, so nothing spins.
    const current = api;
    if (stopped || !current || !apiReady || !provider?.isConnected) return;
    inFlight = syncOnce(current)
      .catch((error: unknown) => {
        // While disconnected the connection error is the one worth showing.
        if (!stopped && !connectionDown) health.fail(message(error));
      })
      .finally(() => {
        inFlight = null;
        settleFirstAttempt();
        schedule(syncAgain ? 0 : options.refreshMs);
        syncAgain = false;
      });
  }

  function connect(): void {
    const p = new ResilientWsProvider({
      url: options.url,
      requestTimeoutMs: options.callTimeoutMs ?? 20_000,
      backoff: options.reconnect ?? { baseMs: 1_000, capMs: 30_000 },
      onBadFrame: (description) => {
        if (description !== loggedBadFrame) logger.error({ frame: description }, 'chain node sent a frame that is not JSON-RPC; dropped');
        loggedBadFrame = description;
      },
    });
    p.onStatus((status) => {
      if (stopped) return;
      if (status.connected) {
        connectionDown = false;
        if (apiReady) schedule(0);
        return;
      }
      logger.debug({ error: status.error, retryInMs: status.retryInMs }, 'chain connection attempt failed');
      if (!connectionDown) health.fail(`not connected to the chain: ${status.error ?? 'connection closed'}`);
      connectionDown = true;
      settleFirstAttempt();
    });
    const a = (options.apiFactory ?? createSubtensorApi)(p);
    // ApiPromise rejects isReadyOrError on the first 'error' event; nobody awaits it here.
    a.isReadyOrError.catch(() => {});
    a.on('ready', () => {
      apiReady = true;
      schedule(0);
    });
    a.on('error', (error: unknown) => {
      // A failed initialisation leaves the api unusable on this connection: reconnect to retry it.
      if (stopped || apiReady || !message(error).startsWith('FATAL')) return;
      health.fail(`chain api could not initialise: ${message(error)}`);
      settleFirstAttempt();
      p.dropConnection('api initialisation failed');
    });
    provider = p;
    api = a;
    void p.connect();
  }

  return {
    kind,
    async start() {
      stopped = false;
      await restore();
      const firstAttempt = new Promise<void>((resolve) => (settleFirstAttempt = resolve));
      connect();
      // A restored snapshot is served at once; the chain catches up in the background,
      // however long a node that accepts the connection and never answers takes to fail.
      if (snapshot) return;
      // With nothing to serve, a reachable chain's first sync is worth a short wait: the
      // first request is then answered instead of a 503. A dead or silent one is not waited out.
      let startTimer: NodeJS.Timeout | null = null;
      const timeout = new Promise<void>((resolve) => (startTimer = setTimeout(resolve, options.startTimeoutMs ?? 10_000)));
      await Promise.race([firstAttempt, timeout]);
      if (startTimer) clearTimeout(startTimer);
    },
    async stop() {
      stopped = true;
      settleFirstAttempt();
      if (timer) clearTimeout(timer);
      timer = null;
      const a = api;
      api = null;
      apiReady = false;
      await a?.disconnect().catch(() => {});
      await provider?.disconnect();
      await inFlight;
    },
    current: () => snapshot,
    status: () => health.status(),
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
