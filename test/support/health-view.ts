/** Reads the per-miner health the gateway publishes in GET /v1/subnets/:netuid/miners. */
import type { MinerHealthView } from '../../src/router/miner-health.js';
import type { TestGateway } from './gateway-harness.js';

export interface MinersView {
  readonly hedge_delay_ms: { non_stream: number | null; stream: number | null };
  readonly data: ReadonlyArray<{ uid: number; health: MinerHealthView | null }>;
}

export async function minersView(gw: TestGateway, netuid = 4): Promise<MinersView> {
  const res = await gw.request(`/v1/subnets/${netuid}/miners`);
  if (res.status !== 200) throw new Error(`miners view answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as MinersView;
}

/** The health of one uid; null before its first attempt. */
export async function healthOf(gw: TestGateway, uid: number, netuid = 4): Promise<MinerHealthView | null> {
  const view = await minersView(gw, netuid);
  const miner = view.data.find((m) => m.uid === uid);
  if (!miner) throw new Error(`uid ${uid} is not ranked on subnet ${netuid}`);
  return miner.health;
}

/** Polls until `check` passes or `timeoutMs` runs out (then fails with its last error). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
