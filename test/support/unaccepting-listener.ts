/**
 * A TCP port on 127.0.0.1 where connect() hangs: an axon that never
 * completes a connection, for testing CONNECT_TIMEOUT_MS without leaving the
 * machine. A listening socket with backlog 1 is opened in a worker thread
 * whose event loop is then blocked, so nothing is ever accepted; filler
 * connections fill its accept queue, after which Linux drops further SYNs
 * (the client keeps retransmitting: connect neither succeeds nor fails).
 * If a probe connect still completes, this throws instead of letting a test
 * pass for the wrong reason.
 */
import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

export interface UnacceptingListener {
  readonly port: number;
  close(): Promise<void>;
}

const LISTENER = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  // Blocks this thread until released: its event loop never runs accept().
  Atomics.wait(new Int32Array(workerData), 0, 0);
  server.close();
});`;

/** Resolves with the socket once connected, or null if it neither connected nor failed within `ms`. */
function connectWithin(port: number, ms: number): Promise<{ socket: Socket; connected: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => resolve({ socket, connected: false }), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, connected: true });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export async function startUnacceptingListener(): Promise<UnacceptingListener> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(LISTENER, { eval: true, workerData: release.buffer });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const held: Socket[] = [];
  const close = async () => {
    for (const socket of held) socket.destroy();
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await worker.terminate();
  };
  try {
    // Fill the accept queue (backlog 1 holds two on Linux) until a connect hangs.
    for (let i = 0; i < 16; i++) {
      const { socket, connected } = await connectWithin(port, 300);
      held.push(socket);
      if (!connected) {
        // Confirm with a second, longer probe: the queue is full for good, not just slow.
        const probe = await connectWithin(port, 1000);
        held.push(probe.socket);
        if (probe.connected) break;
        return { port, close };
      }
    }
    throw new Error('could not make a loopback connect() hang here (the accept queue never filled)');
  } catch (err) {
    await close();
    throw err;
  }
}
