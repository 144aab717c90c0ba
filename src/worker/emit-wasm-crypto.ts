/**
 * Writes @polkadot/wasm-crypto's WebAssembly to src/worker/generated/ as a
 * .wasm file, which the Worker imports as a compiled module. Workers refuse
 * to compile WebAssembly from bytes at run time, which is how the package
 * loads itself; a module the bundler uploads is allowed. The bytes come from
 * the copy wasm-crypto itself depends on, so the JS glue and the wasm always
 * match. Run by `npm run build:worker`, `dev:worker`, `deploy` and the
 * Worker tests (src/worker/worker-bundle.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const WASM_CRYPTO_PATH = join(dirname(fileURLToPath(import.meta.url)), 'generated', 'wasm-crypto.wasm');

export async function emitWasmCrypto(): Promise<string> {
  const fromWasmCrypto = createRequire(createRequire(import.meta.url).resolve('@polkadot/wasm-crypto'));
  const bytesModule = fromWasmCrypto.resolve('@polkadot/wasm-crypto-wasm');
  const { wasmBytes } = (await import(pathToFileURL(bytesModule).href)) as { wasmBytes: Uint8Array };
  mkdirSync(dirname(WASM_CRYPTO_PATH), { recursive: true });
  writeFileSync(WASM_CRYPTO_PATH, wasmBytes);
  return WASM_CRYPTO_PATH;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`wrote ${await emitWasmCrypto()}`);
}
