/**
 * Delivers a metagraph source's snapshots to a gateway that does not read
 * the chain itself (the Workers build): PUT <target>/admin/metagraph with
 * the admin token, in the chain source's persisted format. Only the newest
 * snapshot matters, so one that could not be delivered is replaced by the
 * next, never queued. An unchanged metagraph is re-sent only as a heartbeat,
 * which keeps the gateway's "snapshot age" honest without a KV write per
 * block.
 */
import type { Logger } from '../log.js';
import { encodeSnapshot } from './snapshot-codec.js';
import type { MetagraphSnapshot, MetagraphSource } from './snapshot.js';

export interface SnapshotPusherOptions {
  readonly source: MetagraphSource;
  /** The gateway's base URL, e.g. https://taogate.example.workers.dev */
  readonly targetUrl: string;
  readonly adminToken: string;
  readonly logger: Logger;
  /** Re-send an unchanged snapshot after this long (default 5 min). */
  readonly heartbeatMs?: number;
  /** Wait before retrying a failed delivery (default 2 s). */
  readonly retryMs?: number;
}

export interface SnapshotPusher {
  /** Deliveries the gateway accepted. */
  delivered(): number;
  stop(): Promise<void>;
}

/** What routing depends on: everything but the block, version and time of the read. */
function routingContent(snapshot: MetagraphSnapshot): string {
  const subnets = new Map([...snapshot.subnets].map(([netuid, subnet]) => [netuid, { ...subnet, block: null }]));
  return encodeSnapshot({ ...snapshot, version: '', block: null, takenAt: 0, subnets });
}

export async function startSnapshotPusher(options: SnapshotPusherOptions): Promise<SnapshotPusher> {
  const endpoint = `${options.targetUrl.replace(/\/+$/, '')}/admin/metagraph`;
  const logger = options.logger.child({ component: 'snapshot-pusher', target: endpoint });
  const heartbeatMs = options.heartbeatMs ?? 300_000;
  let pending: MetagraphSnapshot | null = null;
  let sending = false;
  let stopped = false;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let lastContent = '';
  let lastSentAt = 0;
  let delivered = 0;
  let loggedError = '';

  async function deliver(snapshot: MetagraphSnapshot): Promise<void> {
    const response = await fetch(endpoint, {
      method: 'PUT',
      headers: { authorization: `Bearer ${options.adminToken}`, 'content-type': 'application/json' },
      body: encodeSnapshot(snapshot),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }

  async function drain(): Promise<void> {
    if (sending || stopped) return;
    sending = true;
    try {
      while (pending && !stopped) {
        const snapshot = pending;
        pending = null;
        const content = routingContent(snapshot);
        if (content === lastContent && Date.now() - lastSentAt < heartbeatMs) continue;
        try {
          await deliver(snapshot);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (message !== loggedError) logger.warn({ err: message }, 'could not deliver the metagraph snapshot; retrying');
          loggedError = message;
          pending ??= snapshot; // a newer one, if it arrived meanwhile, wins
          retryTimer = setTimeout(() => {
            retryTimer = null;
            void drain();
          }, options.retryMs ?? 2_000);
          return;
        }
        delivered++;
        loggedError = '';
        lastContent = content;
        lastSentAt = Date.now();
        logger.info({ block: snapshot.block, subnets: [...snapshot.subnets.values()].map((s) => ({ netuid: s.netuid, routable: s.ranked.length })) }, 'metagraph snapshot delivered');
      }
    } finally {
      sending = false;
    }
  }

  const unsubscribe = options.source.onUpdate((snapshot) => {
    pending = snapshot;
    if (retryTimer === null) void drain();
  });
  await options.source.start();

  return {
    delivered: () => delivered,
    async stop() {
      stopped = true;
      unsubscribe();
      if (retryTimer) clearTimeout(retryTimer);
      await options.source.stop();
    },
  };
}
