/**
 * Stands in for @polkadot-labs/schnorrkel-wasm in the Worker bundle
 * (wrangler.toml [alias]): the package compiles WebAssembly from bytes when
 * it loads, which Workers refuse, so it could only fail there; the Worker
 * signs with wasm-crypto from an uploaded module instead
 * (src/worker/shims/wasm-crypto-init.ts). Loading this fails the same way the
 * real package would, so fastestSr25519Backend() still falls back, and the
 * bundle is ~190 KB smaller.
 */
throw new Error('@polkadot-labs/schnorrkel-wasm is not available on Workers (it compiles WebAssembly from bytes)');
