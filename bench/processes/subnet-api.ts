/** A fake subnet API in its own process (flavor, key and models from the environment): prints its base URL as one JSON line. */
import { startFakeSubnetApi, type SubnetApiFlavor } from '../../src/devnet/fake-subnet-api.js';

const api = await startFakeSubnetApi({
  flavor: (process.env.FLAVOR ?? 'chutes') as SubnetApiFlavor,
  apiKey: process.env.API_KEY ?? 'bench-key',
  models: (process.env.MODELS ?? 'bench-model').split(','),
  name: 'bench',
});
console.log(JSON.stringify({ baseUrl: api.baseUrl }));
process.on('SIGTERM', () => void api.close().then(() => process.exit(0)));
