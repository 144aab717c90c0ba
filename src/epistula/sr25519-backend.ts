/**
 * Which sr25519 implementation signs on the hot path. Measured with
 * `npm run bench -- sign`: @polkadot-labs/schnorrkel-wasm ~0.14 ms per
 * signature, @polkadot/wasm-crypto ~0.19 ms, Keyring's pure JS ~1.3 ms.
 * Signing happens once per proxied request, so the fastest one that loads
 * wins; wasm-crypto is the fallback (it also runs where the schnorrkel
 * package's Node-only loader cannot, e.g. as asm.js). Workers cannot load
 * either package as published (no WebAssembly from bytes there): the Worker
 * passes wasm-crypto instantiated from an uploaded module
 * (src/worker/shims/wasm-crypto-init.ts; `npm run bench -- workerd-sign`).
 */
import { sr25519Sign, waitReady } from '@polkadot/wasm-crypto';

export type Sr25519SignFn = (publicKey: Uint8Array, secretKey: Uint8Array, message: Uint8Array) => Uint8Array;

export interface Sr25519Backend {
  readonly name: string;
  readonly sign: Sr25519SignFn;
}

export async function wasmCryptoBackend(): Promise<Sr25519Backend> {
  if (!(await waitReady())) throw new Error('@polkadot/wasm-crypto failed to initialise; cannot sign Epistula requests');
  return { name: '@polkadot/wasm-crypto', sign: sr25519Sign };
}

export async function fastestSr25519Backend(): Promise<Sr25519Backend> {
  try {
    const schnorrkel = await import('@polkadot-labs/schnorrkel-wasm');
    return { name: '@polkadot-labs/schnorrkel-wasm', sign: schnorrkel.sr25519_sign };
  } catch {
    return wasmCryptoBackend();
  }
}
