/**
 * `SUBTENSOR_URL=… npm start` without NETUIDS (the literal command of the
 * chain issue, against the local subtensor node, never a real chain): it
 * starts, says loudly which subnets it serves and how to choose others, and
 * serves the inference subnets taogate knows (4, 19, 62, 64), not every
 * subnet of the chain.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChainNode, type ChainNode } from '../src/devnet/chain-node.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { minerNeurons } from './support/miner-neurons.js';
import { freePort } from './support/free-port.js';
import { startNpmStart, type NpmStart } from './support/npm-start.js';

const ADMIN_TOKEN = 'chain-default-admin-token-123';

let miner: RunningMiner;
let node: ChainNode;
let run: NpmStart;
let output = '';
let base = '';

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//DefaultSubnetsMiner', name: 'default' });
  node = await startChainNode({ blockTimeMs: 500 });
  // The four default subnets, and one more the gateway must leave alone.
  for (const netuid of [4, 19, 62, 64, 7]) node.setNeurons(netuid, minerNeurons([miner], [1]));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  run = startNpmStart(
    {
      SUBTENSOR_URL: node.url,
      ALLOW_PRIVATE_AXONS: '1',
      SUBNET_MODELS: JSON.stringify({ 19: ['m'], 7: ['m'] }),
      METAGRAPH_REFRESH_S: '1',
      ADMIN_TOKEN,
      PORT: String(port),
    },
    /taogate listening/,
  );
  const started = await run.done;
  output = started.output;
  if (started.code !== null) throw new Error(`npm start exited with ${started.code}:\n${output}`);
}, 40_000);

afterAll(async () => {
  await run?.stop();
  await node?.stop();
  await miner?.close();
});

describe('SUBTENSOR_URL without NETUIDS', () => {
  it('starts, naming the subnets it serves and how to choose others', () => {
    expect(output).not.toMatch(/NETUIDS: required/);
    expect(output).toMatch(/NETUIDS is unset: serving the inference subnets taogate knows \(sn4 Targon, sn19 Nineteen, sn62 Ridges, sn64 Chutes\); set NETUIDS to choose/);
  });

  it('serves subnets 4, 19, 62 and 64 from the chain, and no other', async () => {
    const served = async () => {
      const res = await fetch(`${base}/v1/subnets`);
      if (res.status !== 200) return [];
      return ((await res.json()) as { data: Array<{ netuid: number }> }).data.map((s) => s.netuid);
    };
    await expect.poll(served, { timeout: 15_000, interval: 250 }).toEqual([4, 19, 62, 64]);
    const created = await fetch(`${base}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{"name":"t"}' });
    const { key } = (await created.json()) as { key: string };
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'sn19/m', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.choices[0]?.message.content).toContain('devnet miner default');
    const refused = await client.chat.completions.create({ model: 'sn7/m', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
  });
});
