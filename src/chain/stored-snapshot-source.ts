/**
 * The metagraph as a Worker serves it: read from a shared shelf (Workers KV)
 * where a syncer put it, never from the chain itself. Requests only read the
 * snapshot this isolate holds; `refresh()` re-reads the shelf at most every
 * `refreshMs`, and the entry calls it around requests (a Worker has no
 * background of its own). The format is the chain source's persisted one
 * (snapshot-codec.ts), so what `npm run sync` pushes is exactly what a Node
 * gateway restores from its store.
 */
import type { Logger } from '../log.js';
import type { AddressPolicy } from '../router/address-guard.js';
import { rerankRestoredSnapshot } from './restored-subnet.js';
import { decodeSnapshot } from './snapshot-codec.js';
import type { MetagraphSnapshot, MetagraphSource, SourceStatus, SubnetSnapshot } from './snapshot.js';

/** Where the snapshot text lives between the syncer and the isolates. */
export interface SnapshotShelf {
  /** For status and logs, e.g. "kv:METAGRAPH/metagraph:snapshot". */
  readonly where: string;
  read(): Promise<string | null>;
  write(text: string): Promise<void>;
}

export interface StoredSnapshotSourceOptions {
  readonly shelf: SnapshotShelf;
  /** Subnets to serve; null serves every subnet in the snapshot. */
  readonly netuids: readonly number[] | null;
  /** Models per subnet; SUBNET_MODELS where set, else the models the syncer saved. */
  readonly modelsFor: (netuid: number, saved: SubnetSnapshot) => readonly string[];
  readonly addressPolicy: AddressPolicy;
  readonly refreshMs: number;
  /** Older than this, the source reports itself degraded: the syncer has stopped. */
  readonly maxAgeMs: number;
  readonly logger: Logger;
}

export interface StoredSnapshotSource extends MetagraphSource {
  /** Re-reads the shelf if the last read is older than refreshMs; resolves at once otherwise. */
  refresh(): Promise<void>;
  /** Validates a pushed snapshot (throws SnapshotCodecError), shelves it, and serves it here at once. */
  publish(text: string): Promise<MetagraphSnapshot>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createStoredSnapshotSource(options: StoredSnapshotSourceOptions): StoredSnapshotSource {
  const { shelf } = options;
  const logger = options.logger.child({ component: 'stored-snapshot-source', shelf: shelf.where });
  const listeners = new Set<(snapshot: MetagraphSnapshot) => void>();
  let snapshot: MetagraphSnapshot | null = null;
  let lastText: string | null = null;
  let lastRead = 0;
  let reading = false;
  let error: string | null = null;

  function serve(text: string): MetagraphSnapshot | null {
    const restored = rerankRestoredSnapshot(decodeSnapshot(text, 'store'), options.netuids, options.modelsFor, options.addressPolicy);
    lastText = text;
    if (!restored) {
      error = `the shelved snapshot has none of the served subnets (${options.netuids?.join(',') ?? 'any'})`;
      return null;
    }
    snapshot = restored;
    error = null;
    logger.info({ version: restored.version, block: restored.block, takenAt: new Date(restored.takenAt).toISOString() }, 'metagraph snapshot loaded');
    for (const listener of listeners) listener(restored);
    return restored;
  }

  async function read(): Promise<void> {
    reading = true;
    lastRead = Date.now();
    try {
      const text = await shelf.read();
      if (text === null) error = `no snapshot on ${shelf.where} yet: run \`npm run sync\` against this gateway`;
      else if (text !== lastText) serve(text);
    } catch (err) {
      error = `reading ${shelf.where}: ${message(err)}`;
      logger.warn({ err: message(err) }, 'could not read the metagraph snapshot; serving the last one');
    } finally {
      reading = false;
    }
  }

  return {
    kind: 'store',
    async start() {
      await read();
    },
    async stop() {},
    async refresh() {
      if (Date.now() - lastRead < options.refreshMs) return;
      // One read per interval is enough; without a snapshot every request needs its own answer.
      if (reading && snapshot) return;
      await read();
    },
    async publish(text) {
      const decoded = decodeSnapshot(text, 'store');
      await shelf.write(text);
      lastRead = Date.now();
      return serve(text) ?? decoded;
    },
    current: () => snapshot,
    status(): SourceStatus {
      const ageMs = snapshot ? Date.now() - snapshot.takenAt : 0;
      const stale = snapshot && ageMs > options.maxAgeMs ? `the snapshot is ${Math.round(ageMs / 1000)} s old: is \`npm run sync\` still running?` : null;
      const problem = error ?? stale;
      return { state: snapshot ? (problem ? 'degraded' : 'ok') : problem ? 'down' : 'starting', endpoint: shelf.where, error: problem };
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
