/**
 * The setup both coding-API tests share: a gateway over one coding subnet
 * (sn62/qwen-coder-32b) served by two fake miners that call tools, with
 * helpers to read what the miner that served a request was sent.
 */
import { startMiner, type RunningMiner } from '../../src/devnet/miner.js';
import { startTestGateway, type TestGateway } from './gateway-harness.js';

export const CODING_MODEL = 'sn62/qwen-coder-32b';

export interface CodingFixture {
  readonly minerA: RunningMiner;
  readonly minerB: RunningMiner;
  readonly gw: TestGateway;
  /** The miner that got a request since the last reset. */
  served(): RunningMiner | undefined;
  /** The chat completion request that miner was sent last. */
  sentChat(): Record<string, unknown>;
  /** Faults off, counters and last requests cleared. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startCodingFixture(name: string, env: Readonly<Record<string, string>> = {}): Promise<CodingFixture> {
  const minerA = await startMiner({ hotkeyUri: `//${name}MinerA`, name: 'A', chunkCount: 6 });
  const minerB = await startMiner({ hotkeyUri: `//${name}MinerB`, name: 'B', chunkCount: 6 });
  const gw = await startTestGateway({
    subnets: [{ netuid: 62, models: ['qwen-coder-32b'], miners: [{ miner: minerA, uid: 1, incentive: 0.5 }, { miner: minerB, uid: 2, incentive: 0.5 }] }],
    // One attempt at a time, so exactly one miner serves each request.
    env: { HEDGE_MODE: 'off', ...env },
  });
  const miners = [minerA, minerB];
  const served = () => miners.find((m) => m.requestCount > 0);
  return {
    minerA,
    minerB,
    gw,
    served,
    sentChat: () => JSON.parse(served()?.lastRequest?.body ?? '{}') as Record<string, unknown>,
    async reset() {
      for (const m of miners) {
        await m.setFault('none');
        m.reset();
      }
    },
    async close() {
      await gw.close();
      await Promise.all(miners.map((m) => m.close()));
    },
  };
}
