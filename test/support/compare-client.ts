/** Calls POST /v1/compare and reads its SSE stream, for the compare, leaderboard and blend tests. */
import type { RunningMiner } from '../../src/devnet/miner.js';
import type { SubnetEntry, TestGateway } from './gateway-harness.js';

/**
 * sn4 with three miners (uids 1-3, incentive 0.5/0.3/0.2), and sn62 with
 * the judge alone, so the judge's calls (and its retry) land on it deterministically.
 */
export function judgedSubnets(sn4: readonly [RunningMiner, RunningMiner, RunningMiner], judge: RunningMiner): SubnetEntry[] {
  return [
    { netuid: 4, models: ['llama-3.1-8b'], miners: sn4.map((miner, i) => ({ miner, uid: i + 1, incentive: [0.5, 0.3, 0.2][i] as number })) },
    { netuid: 62, models: ['coder'], miners: [{ miner: judge, uid: 1, incentive: 1 }] },
  ];
}

export interface EntryView {
  index: number;
  target: string;
  model: string;
  served_model: string | null;
  miner: { netuid: number; uid: number | null; hotkey: string | null; upstream: string | null } | null;
  answer: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  tokens: { prompt: number; completion: number; estimated: boolean } | null;
  cost_micro_usd: number | null;
  receipt: string | null;
  error: { status: number; type: string; code: string | null; message: string } | null;
  scores: {
    checks: Array<{ type: string; passed: boolean; detail: string | null }>;
    checks_passed: number;
    checks_total: number;
    judge: { score: number | null; reason: string | null; error?: string } | null;
    overall: number | null;
  };
}

export interface ComparisonView {
  id: string;
  object: 'comparison';
  judge: { model: string; status: string; error: string | null; attempts: number; receipts: string[] } | null;
  entries: EntryView[];
  winners: number[];
  leaderboard: string;
}

export async function compare(gw: TestGateway, body: Record<string, unknown>, apiKey?: string): Promise<{ status: number; json: any }> {
  const headers = apiKey ? { authorization: `Bearer ${apiKey}` } : undefined;
  const res = await gw.request('/v1/compare', { method: 'POST', json: body, headers });
  return { status: res.status, json: await res.json() };
}

export async function compareOk(gw: TestGateway, body: Record<string, unknown>, apiKey?: string): Promise<ComparisonView> {
  const { status, json } = await compare(gw, body, apiKey);
  if (status !== 200) throw new Error(`compare failed: ${status} ${JSON.stringify(json)}`);
  return json as ComparisonView;
}

export interface SseEvent {
  event: string;
  data: string;
}

/** Every SSE event of a streamed compare, in arrival order. */
export async function compareStream(gw: TestGateway, body: Record<string, unknown>): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const res = await gw.request('/v1/compare', { method: 'POST', json: { ...body, stream: true } });
  const text = await res.text();
  const events = text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}
