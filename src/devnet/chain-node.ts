/**
 * A local subtensor JSON-RPC node over WebSocket: serves finney's real
 * metadata and runtime version, a ticking chain of headers, and whatever
 * neurons and weights it is given, so @polkadot/api connects to it exactly
 * as to finney. Used by the tests and by the offline devnet `npm start`
 * runs, so it must be robust: bad requests get JSON-RPC errors, never a crash.
 */
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { BlockClock } from './block-clock.js';
import { DevnetChainState } from './chain-state.js';
import { devnetChainTypes } from './chain-types.js';
import type { DevnetNeuron } from './neuron-encoder.js';
import { createRpcMethods } from './rpc-methods.js';
import { DevnetRpcSession } from './rpc-session.js';
import { CHAIN_FAULTS, type ChainFault, type RpcContext, type RpcReply } from './rpc-types.js';

export type { ChainFault } from './rpc-types.js';
export type { DevnetNeuron } from './neuron-encoder.js';

export interface ChainNodeOptions {
  /** 0 (the default) picks a free port; restart() reuses whichever port was bound. */
  readonly port?: number;
  readonly host?: string;
  /** A new block every this many ms (finney: 12000). */
  readonly blockTimeMs?: number;
  /** Number of the first block after genesis (default 1). */
  readonly startBlock?: number;
  readonly logger?: Logger;
}

export interface ChainNode {
  readonly url: string;
  readonly port: number;
  /** Current head block number. */
  block(): number;
  /** Hash of a block (default: the head), or null if the node has no such block. */
  blockHash(n?: number): string | null;
  setNeurons(netuid: number, neurons: readonly DevnetNeuron[]): void;
  /** Serves pre-encoded SCALE Vec<NeuronInfoLite> (e.g. the recorded SN1 fixture) as is. */
  setRawNeurons(netuid: number, hex: string): void;
  /** A validator's weights on a subnet: [target uid, u16 weight] pairs. */
  setWeights(netuid: number, uid: number, weights: ReadonlyArray<readonly [number, number]>): void;
  removeSubnet(netuid: number): void;
  setFault(mode: ChainFault): void;
  /** Calls per JSON-RPC method since the node was created (served or not). */
  methodCalls(): ReadonlyMap<string, number>;
  /** Methods clients asked for that the node does not serve. */
  unservedMethods(): readonly string[];
  connectionCount(): number;
  isRunning(): boolean;
  /** Closes every socket and stops listening and ticking. */
  stop(): Promise<void>;
  /** Listens again on the same port (stopping first if running). */
  restart(): Promise<void>;
}

interface JsonRpcRequest {
  readonly id: number | string;
  readonly method: string;
  readonly params: readonly unknown[];
}

function parseRequest(data: RawData): JsonRpcRequest | 'not-json' | 'invalid' {
  let message: unknown;
  try {
    message = JSON.parse(data.toString());
  } catch {
    return 'not-json';
  }
  if (typeof message !== 'object' || message === null) return 'invalid';
  const { id, method, params } = message as Record<string, unknown>;
  if ((typeof id !== 'number' && typeof id !== 'string') || typeof method !== 'string') return 'invalid';
  return { id, method, params: Array.isArray(params) ? params : [] };
}

export async function startChainNode(options: ChainNodeOptions = {}): Promise<ChainNode> {
  const host = options.host ?? '127.0.0.1';
  const blockTimeMs = options.blockTimeMs ?? 12_000;
  const logger = options.logger ?? silentLogger();
  const types = devnetChainTypes();
  const state = new DevnetChainState(types);
  const blocks = new BlockClock(types.registry, options.startBlock ?? 1);
  let fault: ChainFault = 'none';
  const ctx: RpcContext = { types, state, blocks, fault: () => fault };
  const methods = createRpcMethods(ctx);
  const calls = new Map<string, number>();
  const unserved = new Set<string>();
  const sessions = new Map<WebSocket, DevnetRpcSession>();

  let server: WebSocketServer | null = null;
  let ticker: NodeJS.Timeout | null = null;
  let port = options.port ?? 0;

  function reply(session: DevnetRpcSession, id: number | string, answer: RpcReply): void {
    switch (answer.kind) {
      case 'result':
        session.send({ jsonrpc: '2.0', id, result: answer.result });
        return;
      case 'error':
        session.send({ jsonrpc: '2.0', id, error: { code: answer.code, message: answer.message } });
        return;
      case 'raw':
        session.sendText(answer.text);
        return;
      case 'silent':
        return;
    }
  }

  function onMessage(session: DevnetRpcSession, data: RawData): void {
    const request = parseRequest(data);
    if (request === 'not-json' || request === 'invalid') {
      const error = request === 'not-json' ? { code: -32700, message: 'Parse error' } : { code: -32600, message: 'Invalid request' };
      session.send({ jsonrpc: '2.0', id: null, error });
      return;
    }
    calls.set(request.method, (calls.get(request.method) ?? 0) + 1);
    const method = methods.get(request.method);
    if (!method) {
      if (!unserved.has(request.method)) logger.warn({ method: request.method }, 'devnet chain node: method not served');
      unserved.add(request.method);
      reply(session, request.id, { kind: 'error', code: -32601, message: `Method not found: ${request.method}` });
      return;
    }
    let answer: RpcReply;
    try {
      answer = method(request.params, session);
    } catch (error) {
      logger.error({ method: request.method, err: error }, 'devnet chain node: method failed');
      answer = { kind: 'error', code: -32603, message: `Internal error: ${(error as Error).message}` };
    }
    reply(session, request.id, answer);
    session.flushFirstNotifications();
  }

  function tick(): void {
    const n = blocks.advance();
    logger.debug({ block: n }, 'devnet chain node: new block');
    for (const session of sessions.values()) session.onNewBlock();
  }

  async function listen(): Promise<void> {
    const wss = new WebSocketServer({ host, port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('error', (error) => logger.error({ err: error }, 'devnet chain node: server error'));
    const address = wss.address();
    if (typeof address === 'object' && address !== null) port = address.port;
    wss.on('connection', (socket) => {
      const session = new DevnetRpcSession(socket, ctx);
      sessions.set(socket, session);
      socket.on('message', (data) => onMessage(session, data));
      socket.on('close', () => sessions.delete(socket));
      socket.on('error', (error) => logger.debug({ err: error }, 'devnet chain node: socket error'));
    });
    server = wss;
    ticker = setInterval(tick, blockTimeMs);
    logger.info({ url: `ws://${host}:${port}`, block: blocks.head() }, 'devnet chain node listening');
  }

  async function stop(): Promise<void> {
    if (ticker) clearInterval(ticker);
    ticker = null;
    const wss = server;
    server = null;
    if (!wss) return;
    // ws 8 leaves open connections alone on close(): end them first, with a
    // proper "going away" close, and cut whoever does not answer it promptly.
    const closing = [...sessions.keys()].map(
      (socket) =>
        new Promise<void>((resolve) => {
          const cut = setTimeout(() => socket.terminate(), 200);
          socket.once('close', () => {
            clearTimeout(cut);
            resolve();
          });
          socket.close(1001, 'devnet node stopping');
        }),
    );
    await Promise.all(closing);
    sessions.clear();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  await listen();

  return {
    get url() {
      return `ws://${host}:${port}`;
    },
    get port() {
      return port;
    },
    block: () => blocks.head(),
    blockHash: (n) => blocks.hashOf(n ?? blocks.head()),
    setNeurons: (netuid, neurons) => state.setNeurons(netuid, neurons),
    setRawNeurons: (netuid, hex) => state.setRawNeurons(netuid, hex),
    setWeights: (netuid, uid, weights) => state.setWeights(netuid, uid, weights),
    removeSubnet: (netuid) => state.removeSubnet(netuid),
    setFault: (mode) => {
      if (!CHAIN_FAULTS.includes(mode)) throw new Error(`unknown fault mode ${String(mode)}`);
      fault = mode;
    },
    methodCalls: () => new Map(calls),
    unservedMethods: () => [...unserved],
    connectionCount: () => sessions.size,
    isRunning: () => server !== null,
    stop,
    restart: async () => {
      await stop();
      await listen();
    },
  };
}
