/**
 * The metagraph as the router sees it: an immutable, ranked view of every
 * configured subnet. Sources (a file, the chain, the devnet) build a new
 * snapshot and swap it in whole; a request keeps the snapshot it started with.
 */

export interface Axon {
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  readonly ip: string;
  readonly port: number;
  readonly ipType: 4 | 6;
}

/** One neuron as published on chain (or pinned in a metagraph file). */
export interface Neuron {
  readonly uid: number;
  readonly hotkey: string;
  readonly coldkey: string | null;
  /** Total stake in TAO (chain values are rao ÷ 1e9). */
  readonly stakeTao: number;
  /** Yuma consensus incentive as 0..1 (chain u16 ÷ 65535). */
  readonly incentive: number;
  readonly active: boolean;
  readonly validatorPermit: boolean;
  /** null when the neuron publishes no axon (ip 0 or port 0). */
  readonly axon: Axon | null;
  readonly lastUpdate: number | null;
}

/** A neuron the router may call, with the score the rank policy gave it. */
export interface RankedMiner {
  readonly neuron: Neuron;
  /** Rank policy's score, normalised so the routable set sums to 1. */
  readonly score: number;
  /** 1-based position among routable miners. */
  readonly rank: number;
}

/** Why a neuron is kept in the snapshot but never routed to. */
export type UnroutableReason =
  | 'no_axon'
  | 'inactive'
  | 'zero_score'
  | 'private_address';

export interface SubnetSnapshot {
  readonly netuid: number;
  /** Model names the subnet serves; empty means "pass any name through". */
  readonly models: readonly string[];
  readonly neurons: readonly Neuron[];
  /** Routable miners, best first. */
  readonly ranked: readonly RankedMiner[];
  /** Per-uid reason for every neuron that is not in `ranked`. */
  readonly unroutable: ReadonlyMap<number, UnroutableReason>;
  /** The rank policy that produced `ranked`, e.g. "incentive" or "validator:5F…". */
  readonly rankPolicy: string;
  /** Set when `ranked` is empty: a sentence an operator can act on. */
  readonly noRouteReason: string | null;
  readonly block: number | null;
}

/** `none`: no miners at all, every served subnet has its own API (taogate.config.json). */
export type SnapshotSourceKind = 'file' | 'chain' | 'devnet' | 'store' | 'none';

export interface MetagraphSnapshot {
  readonly source: SnapshotSourceKind;
  /** Chain block number, or a content version for files. */
  readonly version: string;
  readonly block: number | null;
  /** When the data was read (ms since epoch); a restored snapshot keeps its original time. */
  readonly takenAt: number;
  readonly subnets: ReadonlyMap<number, SubnetSnapshot>;
}

export type SourceState = 'starting' | 'ok' | 'degraded' | 'down';

export interface SourceStatus {
  readonly state: SourceState;
  /** Where the data comes from: a file path or a WebSocket URL. */
  readonly endpoint: string;
  /** Last error, if the latest refresh failed. */
  readonly error: string | null;
}

/**
 * Anything that produces snapshots. The router only ever calls `current()`;
 * sources refresh themselves in the background.
 */
export interface MetagraphSource {
  readonly kind: SnapshotSourceKind;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The latest good snapshot, or null before the first one arrives. */
  current(): MetagraphSnapshot | null;
  status(): SourceStatus;
  /** Called after each successful swap. Returns an unsubscribe function. */
  onUpdate(listener: (snapshot: MetagraphSnapshot) => void): () => void;
}
