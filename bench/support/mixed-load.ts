/**
 * A closed-loop load of mixed stream / non-stream chat requests that judges
 * every answer the way a client would: a JSON answer needs a choice, a
 * stream must end with `[DONE]` and carry no error event. autocannon counts
 * only status codes, and a stream cut mid-way is still a 200.
 */
import { Agent, request } from 'undici';

export interface MixedLoadOptions {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly model: string;
  readonly connections: number;
  readonly durationS: number;
  /** Share of requests sent with `stream: true`. */
  readonly streamShare: number;
}

export interface MixedLoadResult {
  readonly requests: number;
  readonly jsonRequests: number;
  readonly jsonOk: number;
  readonly streamRequests: number;
  readonly streamOk: number;
  readonly rps: number;
  /** Whole-response latencies, successes and failures alike, sorted. */
  readonly latenciesMs: readonly number[];
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function once(agent: Agent, options: MixedLoadOptions, stream: boolean, i: number): Promise<boolean> {
  const body = JSON.stringify({ model: options.model, messages: [{ role: 'user', content: `hello ${i}` }], stream });
  try {
    const res = await request(options.url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', ...options.headers }, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) return false;
    if (!stream) return Array.isArray((JSON.parse(text) as { choices?: unknown }).choices);
    return text.endsWith('data: [DONE]\n\n') && !text.includes('data: {"error"');
  } catch {
    return false;
  }
}

export async function runMixedLoad(options: MixedLoadOptions): Promise<MixedLoadResult> {
  const agent = new Agent({ connections: options.connections, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  let jsonRequests = 0;
  let jsonOk = 0;
  let streamRequests = 0;
  let streamOk = 0;
  let seq = 0;
  const started = performance.now();
  const until = started + options.durationS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const i = seq++;
      // Deterministic interleaving, so both runs see the same mix.
      const stream = (i * options.streamShare) % 1 >= 1 - options.streamShare;
      const t0 = performance.now();
      const ok = await once(agent, options, stream, i);
      latencies.push(performance.now() - t0);
      if (stream) {
        streamRequests++;
        if (ok) streamOk++;
      } else {
        jsonRequests++;
        if (ok) jsonOk++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsedS = (performance.now() - started) / 1000;
  await agent.close();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, jsonRequests, jsonOk, streamRequests, streamOk, rps: latencies.length / elapsedS, latenciesMs: latencies };
}
