/** A bench miner in its own process: prints its url and hotkey as one JSON line. */
import { startMiner } from '../../src/devnet/miner.js';

const miner = await startMiner({
  hotkeyUri: process.env.MINER_URI ?? '//BenchMiner',
  verifySignatures: process.env.VERIFY === '1',
  name: 'bench',
});
console.log(JSON.stringify({ url: miner.url, port: miner.port, hotkey: miner.hotkey }));
process.on('SIGTERM', () => void miner.close().then(() => process.exit(0)));
