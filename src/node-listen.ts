/**
 * Serves a Hono app on Node. Shared by `npm start`, the tests and the
 * benchmark so all three run the same server code.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';

export interface Listening {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Anything with a fetch handler: a Hono app of any env. */
export interface FetchApp {
  fetch(request: Request, env: never): Response | Promise<Response>;
}

export function listen(app: FetchApp, options: { port: number; host: string }): Promise<Listening> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      server = serve({ fetch: app.fetch as (request: Request) => Response | Promise<Response>, port: options.port, hostname: options.host }, (info: AddressInfo) => {
        const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              // Keep-alive sockets would hold close() open until they time out.
              server.close(() => done());
              if ('closeAllConnections' in server) server.closeAllConnections();
            }),
        });
      });
      server.once('error', reject);
    } catch (err) {
      reject(err);
    }
  });
}
