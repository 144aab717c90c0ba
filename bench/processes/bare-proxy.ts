/**
 * The floor the proxy suite compares the gateway with: the work every Node
 * proxy that speaks to a miner must do per request, and nothing else. It
 * reads the body, parses it once, re-serialises it with the upstream model,
 * signs it with the gateway's own Epistula signer (precomputed nonces
 * included), POSTs it over a pooled undici Agent, parses the answer, signs
 * an ed25519 receipt and answers with node:http. No framework, no
 * validation, keys, routing, metering or metrics. Its distance from the
 * gateway is the price of those; its distance from the direct miner is what
 * no amount of tuning of the gateway can remove on this machine.
 * Prints `{ url, key }` like bench/processes/gateway.ts (key is unused).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { createEpistulaSigner } from '../../src/epistula/signer.js';
import { createReceiptSigner } from '../../src/metering/receipts.js';

interface MinerEntry {
  readonly uid: number;
  readonly hotkey: string;
  readonly ip: string;
  readonly port: number;
}

const metagraph = JSON.parse(readFileSync(process.env.METAGRAPH_FILE ?? '', 'utf8')) as { subnets: [{ netuid: number; models: [string]; miners: [MinerEntry] }] };
const [subnet] = metagraph.subnets;
const [miner] = subnet.miners;
const origin = `http://${miner.ip}:${miner.port}`;
const minerId = `${subnet.netuid}/${miner.uid}/${miner.hotkey}`;
const signer = await createEpistulaSigner(process.env.GATEWAY_HOTKEY_URI ?? '//BenchGateway');
const receipts = createReceiptSigner(null);
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });

const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    void (async () => {
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
      const body = Buffer.from(JSON.stringify({ ...request, model: subnet.models[0] }));
      const headers = signer.headers(body, miner.hotkey);
      headers['content-type'] = 'application/json';
      const upstream = await agent.request({ origin, path: '/v1/chat/completions', method: 'POST', headers, body });
      const answer = JSON.parse(await upstream.body.text()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      const receipt = receipts.sign({
        request_id: 'bare',
        key_id: 'bare',
        model: request.model,
        served_model: request.model,
        miner: { netuid: subnet.netuid, uid: miner.uid, hotkey: miner.hotkey },
        snapshot: { version: 'bare', block: null },
        tokens: { prompt: answer.usage.prompt_tokens, completion: answer.usage.completion_tokens, estimated: false },
        cost_micro_usd: 0,
        time: new Date().toISOString(),
      });
      const json = JSON.stringify({ ...answer, model: request.model });
      res.writeHead(200, { 'content-type': 'application/json', 'x-taogate-miner': minerId, 'x-taogate-receipt': receipt });
      res.end(json);
    })().catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, key: 'unused' }));
});
process.on('SIGTERM', () => {
  void signer.close();
  server.close();
  process.exit(0);
});
