/**
 * Runs inside workerd for `npm run bench -- workerd-sign`: the per-signature
 * cost of each sr25519 implementation that can run in a Worker at all, and
 * of the signer's whole headers() call with the one the Worker uses.
 * (@polkadot-labs/schnorrkel-wasm and wasm-crypto's own loader cannot:
 * they compile WebAssembly from bytes, which workerd refuses; the probe
 * reports that too. Like the gateway's bundle, this one replaces
 * wasm-crypto's loader with one that uses the uploaded module.)
 */
import { sr25519Sign } from '@polkadot/wasm-crypto';
import { sign as scureSign } from '@scure/sr25519';
import { sr25519KeypairFromUri } from '../../src/epistula/secret-uri.js';
import { createEpistulaSignerFromKeypair } from '../../src/epistula/signer.js';
import { wasmCryptoBackend } from '../../src/epistula/sr25519-backend.js';
import { measure } from '../support/measure.js';

const MINER_SS58 = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

async function compilesFromBytes(): Promise<string> {
  try {
    await import('@polkadot-labs/schnorrkel-wasm');
    return 'loaded';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export default {
  async fetch(request: Request): Promise<Response> {
    const iterations = Number(new URL(request.url).searchParams.get('n') ?? 2000);
    const backend = await wasmCryptoBackend();
    const keypair = sr25519KeypairFromUri('//Gateway');
    const signer = await createEpistulaSignerFromKeypair(keypair, { backend });
    const body = new TextEncoder().encode(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Explain how Bittensor validators score miners, '.repeat(16) }] }));
    const message = new TextEncoder().encode(`${'ab'.repeat(32)}.${crypto.randomUUID()}.${Date.now()}.${MINER_SS58}`);
    const rows = measure(
      [
        { method: '@polkadot/wasm-crypto sr25519Sign (uploaded .wasm module)', op: () => sr25519Sign(keypair.publicKey, keypair.secretKey, message) },
        { method: '@scure/sr25519 sign (pure JS)', op: () => scureSign(keypair.secretKey, message) },
        { method: `signer.headers(body, signedFor) [full, ${backend.name}]`, op: () => signer.headers(body, MINER_SS58) },
      ],
      iterations,
    );
    return Response.json({ rows, schnorrkelWasm: await compilesFromBytes() });
  },
};
