/**
 * Writes @polkadot/wasm-crypto's WebAssembly to src/worker/generated/ as a
 * .wasm file, which the Worker imports as a compiled module. Workers refuse
 * to compile WebAssembly from bytes at run time, which is how the package
 * loads itself; a module the bundler uploads is allowed. The JS glue
 * (@polkadot/wasm-crypto) and the bytes (@polkadot/wasm-crypto-wasm) must be
 * the same release, which is checked here. Run by `npm run build:worker`, `dev:worker`, `deploy` and the
 * Worker tests (src/worker/worker-bundle.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const WASM_CRYPTO_PATH = join(dirname(fileURLToPath(import.meta.url)), 'generated', 'wasm-crypto.wasm');

export async function emitWasmCrypto(): Promise<string> {
  const glue = await import('@polkadot/wasm-crypto');
  const { wasmBytes, packageInfo } = await import('@polkadot/wasm-crypto-wasm');
  if (packageInfo.version !== glue.packageInfo.version) {
    throw new Error(`@polkadot/wasm-crypto ${glue.packageInfo.version} and @polkadot/wasm-crypto-wasm ${packageInfo.version} differ: reinstall so they match`);
  }
  if (existsSync(WASM_CRYPTO_PATH) && Buffer.from(wasmBytes).equals(readFileSync(WASM_CRYPTO_PATH))) return WASM_CRYPTO_PATH;
  mkdirSync(dirname(WASM_CRYPTO_PATH), { recursive: true });
  // Written aside and renamed: a bundler running in a parallel test file never reads half a file.
  const partial = `${WASM_CRYPTO_PATH}.${process.pid}.tmp`;
  writeFileSync(partial, wasmBytes);
  renameSync(partial, WASM_CRYPTO_PATH);
  return WASM_CRYPTO_PATH;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`wrote ${await emitWasmCrypto()}`);
}
