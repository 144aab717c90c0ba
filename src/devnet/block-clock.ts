/**
 * The devnet's chain of headers. Block 0 is finney's genesis hash (the api
 * checks it); every later header links to its parent and its hash is the
 * real blake2-256 of its SCALE encoding, so @polkadot/api computes the same
 * hash the node hands out. Contents are deterministic per block number.
 */
import { blake2AsHex } from '@polkadot/util-crypto';
import type { TypeRegistry } from '@polkadot/types';
import { FINNEY_GENESIS_HASH } from './chain-fixtures.js';

export interface HeaderJson {
  readonly parentHash: string;
  /** JSON-RPC block numbers are hex. */
  readonly number: string;
  readonly stateRoot: string;
  readonly extrinsicsRoot: string;
  readonly digest: { readonly logs: readonly string[] };
}

/** Old headers are forgotten beyond this depth so a long-running devnet does not grow without bound. */
const KEPT_BLOCKS = 4096;

export class BlockClock {
  readonly #registry: TypeRegistry;
  readonly #headers = new Map<number, { hash: string; header: HeaderJson }>();
  readonly #numberByHash = new Map<string, number>();
  #head: number;

  constructor(registry: TypeRegistry, startBlock: number) {
    if (!Number.isInteger(startBlock) || startBlock < 1) throw new Error('startBlock must be an integer ≥ 1');
    this.#registry = registry;
    this.#remember(0, FINNEY_GENESIS_HASH, this.#headerJson(0, '0x' + '00'.repeat(32)));
    // A devnet that starts late (to look like finney's height) has no blocks
    // between genesis and its first one; that block's parent is synthetic.
    const firstParent = startBlock === 1 ? FINNEY_GENESIS_HASH : blake2AsHex(`taogate-devnet:parent-of:${startBlock}`);
    this.#head = startBlock;
    this.#build(startBlock, firstParent);
  }

  head(): number {
    return this.#head;
  }

  advance(): number {
    const parent = this.#headers.get(this.#head)?.hash ?? blake2AsHex(`taogate-devnet:parent-of:${this.#head + 1}`);
    this.#head += 1;
    this.#build(this.#head, parent);
    for (const n of this.#headers.keys()) {
      if (n === 0) continue;
      if (n > this.#head - KEPT_BLOCKS) break;
      this.#forget(n);
    }
    return this.#head;
  }

  /** null for blocks not produced yet, skipped, or forgotten. */
  hashOf(n: number): string | null {
    return this.#headers.get(n)?.hash ?? null;
  }

  numberOf(hash: string): number | null {
    return this.#numberByHash.get(hash.toLowerCase()) ?? null;
  }

  header(n: number): HeaderJson | null {
    return this.#headers.get(n)?.header ?? null;
  }

  #build(n: number, parentHash: string): void {
    const header = this.#headerJson(n, parentHash);
    this.#remember(n, this.#registry.createType('Header', { ...header, number: n }).hash.toHex(), header);
  }

  #headerJson(n: number, parentHash: string): HeaderJson {
    return {
      parentHash,
      number: `0x${n.toString(16)}`,
      stateRoot: blake2AsHex(`taogate-devnet:state:${n}`),
      extrinsicsRoot: blake2AsHex(`taogate-devnet:extrinsics:${n}`),
      digest: { logs: [] },
    };
  }

  #remember(n: number, hash: string, header: HeaderJson): void {
    this.#headers.set(n, { hash, header });
    this.#numberByHash.set(hash.toLowerCase(), n);
  }

  #forget(n: number): void {
    const known = this.#headers.get(n);
    if (!known) return;
    this.#headers.delete(n);
    this.#numberByHash.delete(known.hash.toLowerCase());
  }
}
