/**
 * Stands in for @polkadot/wasm-crypto-init in the Worker bundle (wrangler.toml
 * [alias]; wrangler aliases the exact name only, so its /packageInfo subpath
 * stays the real one): the published loader compiles wasm-crypto from bytes
 * embedded in @polkadot/wasm-crypto-wasm, which Workers refuse. This one
 * instantiates the module the bundler uploads (src/worker/emit-wasm-crypto.ts
 * writes it), so wasm-crypto's own waitReady() works in workerd, and the
 * embedded bytes (~220 KB) stay out of the bundle.
 */
import wasmCrypto from '../generated/wasm-crypto.wasm';

export { packageInfo } from '@polkadot/wasm-crypto-init/packageInfo';

type InitResult = { error: string | null; type: 'wasm' | 'none'; wasm: WebAssembly.Exports | null };

export async function createWasm(wbg: Record<string, unknown>): Promise<InitResult> {
  try {
    return { error: null, type: 'wasm', wasm: new WebAssembly.Instance(wasmCrypto, { wbg: wbg as WebAssembly.ModuleImports }).exports };
  } catch (err) {
    return { error: `could not instantiate the uploaded wasm-crypto module: ${(err as Error).message}`, type: 'none', wasm: null };
  }
}
