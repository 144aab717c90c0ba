// The listener of a fake server (devnet miner, fake subnet API) that its 'refuse' fault switches off and
// on again on the same port: off closes the listener and every open connection, keep-alive ones included,
// so new connections are refused the way a dead host refuses them.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SwitchableListener {
  readonly port: number;
  readonly openConnections: number;
  /** Resolves once the change is in effect. */
  setListening(on: boolean): Promise<void>;
  /** Stops for good (whatever the state). */
  close(): Promise<void>;
}

export interface SwitchableListenerOptions {
  readonly host: string;
  /** 0 for any free port. */
  readonly port: number;
  /** Told while connections are being torn down on purpose, so the server does not count them as client aborts. */
  readonly onDropping?: (dropping: boolean) => void;
}

export async function listenSwitchable(server: Server, options: SwitchableListenerOptions): Promise<SwitchableListener> {
  const sockets = new Set<Socket>();
  let listening = false;
  let closed = false;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const start = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stop = async () => {
    options.onDropping?.(true);
    listening = false;
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      ...[...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()).destroy())),
    ]);
    options.onDropping?.(closed);
  };

  await start(options.port);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake server did not bind a TCP port');
  const port = address.port;

  return {
    port,
    get openConnections() {
      return sockets.size;
    },
    async setListening(on) {
      if (closed || on === listening) return;
      await (on ? start(port) : stop());
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
    },
  };
}
