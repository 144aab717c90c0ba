/**
 * The Workers build's own cost, locally: the same small non-stream chat
 * request sent to the fake miner directly, through the Node gateway
 * (`npm start`'s build) and through the Worker bundle in workerd (Miniflare,
 * the store's Durable Object and KV simulated locally), side by side in one
 * run. Workerd here is one local process, not Cloudflare's edge: the figures
 * compare the two builds on one machine, they do not predict production.
 */
import { encodeSnapshot } from '../../src/chain/snapshot-codec.js';
import { readMetagraphFile, snapshotFromFile } from '../../src/chain/file-source.js';
import { startWorkerRuntime } from '../../test/support/worker-runtime.js';
import { runLoad, type LoadResult } from '../support/load.js';
import { metagraphFileFor, startGatewayProcess, startMinerProcess } from '../support/processes.js';
import type { BenchSuite } from '../support/suite.js';

const BODY = JSON.stringify({ model: 'sn4/bench-model', messages: [{ role: 'user', content: 'Say hello in five words.' }], max_tokens: 16 });
const DIRECT_BODY = BODY.replace('sn4/bench-model', 'bench-model');
const CONNECTIONS = [1, 16];
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export const workerProxySuite: BenchSuite = {
  name: 'worker-proxy',
  title: 'Direct miner vs Node gateway vs Worker bundle in workerd: small non-stream chat completion',
  async run() {
    const miner = await startMinerProcess();
    const file = metagraphFileFor(4, 'bench-model', [miner.info]);
    const node = await startGatewayProcess({ METAGRAPH_FILE: file });
    const worker = await startWorkerRuntime({
      NETUIDS: '4',
      ALLOW_PRIVATE_AXONS: '1',
      ADMIN_TOKEN,
      GATEWAY_HOTKEY_URI: '//BenchGateway',
      LOG_LEVEL: 'silent',
    });
    const rows = [];
    try {
      // The Worker reads the same metagraph, delivered as `npm run sync` does.
      const { data, version } = readMetagraphFile(file);
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const pushed = await fetch(`${worker.url}/admin/metagraph`, { method: 'PUT', headers: admin, body: encodeSnapshot(snapshotFromFile(data, version, { allowPrivate: true })) });
      if (!pushed.ok) throw new Error(`snapshot push failed: ${pushed.status} ${await pushed.text()}`);
      const created = await fetch(`${worker.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench' }) });
      const workerAuth = { authorization: `Bearer ${((await created.json()) as { key: string }).key}` };
      const nodeAuth = { authorization: `Bearer ${node.info.key}` };
      const targets = [
        { name: 'direct', url: `${miner.info.url}/v1/chat/completions`, body: DIRECT_BODY, headers: {} },
        { name: 'node', url: `${node.info.url}/v1/chat/completions`, body: BODY, headers: nodeAuth },
        { name: 'worker', url: `${worker.url}/v1/chat/completions`, body: BODY, headers: workerAuth },
      ];
      for (const t of targets) await runLoad({ ...t, connections: 8, durationS: 2 }); // warm-up
      for (const connections of CONNECTIONS) {
        const results: LoadResult[] = [];
        for (const t of targets) results.push(await runLoad({ ...t, connections, durationS: DURATION_S }));
        const [d, n, w] = results as [LoadResult, LoadResult, LoadResult];
        rows.push({
          connections,
          direct_rps: Math.round(d.rps),
          node_rps: Math.round(n.rps),
          worker_rps: Math.round(w.rps),
          direct_mean_ms: d.meanMs,
          node_mean_ms: n.meanMs,
          worker_mean_ms: w.meanMs,
          worker_p99_ms: w.p99Ms,
          errors: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        });
      }
    } finally {
      await worker.close();
      await node.stop();
      await miner.stop();
    }
    return {
      columns: ['connections', 'direct_rps', 'node_rps', 'worker_rps', 'direct_mean_ms', 'node_mean_ms', 'worker_mean_ms', 'worker_p99_ms', 'errors'],
      rows,
      notes: [
        'mean = connections / rps; p99 from autocannon (whole ms)',
        `each point ${DURATION_S} s; miner, Node gateway and workerd in separate processes, signatures verified off at the miner`,
        'the Worker reads its key from the store object on every request and writes usage behind responses every METERING_FLUSH_MS (one local workerd process: not a prediction of the edge)',
      ],
    };
  },
};
