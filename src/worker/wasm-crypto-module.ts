/**
 * sr25519 signing inside workerd: @polkadot/wasm-crypto instantiated from a
 * module the bundler uploads (emit-wasm-crypto.ts writes it), because
 * Workers forbid compiling WebAssembly from bytes, which is how the package
 * and @polkadot-labs/schnorrkel-wasm load themselves. Measured in workerd
 * (Miniflare, this machine): ~0.23 ms per Epistula signature, against
 * ~1.2-1.5 ms for the pure-JS @scure/sr25519, the only other option there.
 */
import { bridge } from '@polkadot/wasm-crypto';
import { wasmCryptoBackend, type Sr25519Backend } from '../epistula/sr25519-backend.js';
import wasmCrypto from './generated/wasm-crypto.wasm';

type CreateWasm = NonNullable<Parameters<typeof bridge.init>[0]>;

const fromUploadedModule: CreateWasm = async (wbg) => ({
  error: null,
  type: 'wasm',
  wasm: new WebAssembly.Instance(wasmCrypto, { wbg: wbg as unknown as WebAssembly.ModuleImports }).exports as unknown as Awaited<ReturnType<CreateWasm>>['wasm'],
});

export async function workersSr25519Backend(): Promise<Sr25519Backend> {
  // Every later waitReady() (util-crypto's key derivation too) reuses this instance.
  await bridge.init(fromUploadedModule);
  return wasmCryptoBackend();
}
