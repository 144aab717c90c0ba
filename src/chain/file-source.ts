/**
 * METAGRAPH_FILE: a static metagraph for operators who pin their own miners,
 * and for tests. Re-read whenever the file changes; a bad file at start-up is
 * fatal (naming the path and field), a bad edit later keeps the last good one.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAddress } from '@polkadot/util-crypto';
import { z } from 'zod';
import type { AddressPolicy } from '../router/address-guard.js';
import type { Logger } from '../log.js';
import { rankSubnet } from './rank.js';
import type { MetagraphSnapshot, MetagraphSource, Neuron, SourceStatus, SubnetSnapshot } from './snapshot.js';

const MinerSchema = z.object({
  uid: z.number().int().min(0).max(65535),
  hotkey: z.string().refine((a) => isAddress(a), 'must be an ss58 address'),
  coldkey: z.string().refine((a) => isAddress(a), 'must be an ss58 address').optional(),
  ip: z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address'),
  /** 0 (or ip 0.0.0.0 / ::) means the miner publishes no axon. */
  port: z.number().int().min(0).max(65535),
  incentive: z.number().min(0).max(1),
  stake: z.number().min(0).default(0),
  active: z.boolean().default(true),
  validator_permit: z.boolean().default(false),
});

const MetagraphFileSchema = z.object({
  subnets: z.array(
    z.object({
      netuid: z.number().int().min(0).max(65535),
      models: z.array(z.string().min(1)).default([]),
      miners: z.array(MinerSchema),
    }),
  ),
});

export type MetagraphFile = z.infer<typeof MetagraphFileSchema>;

export class MetagraphFileError extends Error {
  override readonly name = 'MetagraphFileError';
}

/** Reads and validates the file; errors name the path and the field. */
export function readMetagraphFile(path: string): { data: MetagraphFile; version: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MetagraphFileError(`METAGRAPH_FILE ${path}: cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MetagraphFileError(`METAGRAPH_FILE ${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = MetagraphFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') ?? '';
    throw new MetagraphFileError(`METAGRAPH_FILE ${path}: field ${field.replace(/^\./, '') || '(root)'}: ${issue?.message}`);
  }
  const version = createHash('sha256').update(text).digest('hex').slice(0, 12);
  return { data: parsed.data, version };
}

function toNeuron(miner: z.infer<typeof MinerSchema>): Neuron {
  return Object.freeze({
    uid: miner.uid,
    hotkey: miner.hotkey,
    coldkey: miner.coldkey ?? null,
    stakeTao: miner.stake,
    incentive: miner.incentive,
    active: miner.active,
    validatorPermit: miner.validator_permit,
    axon:
      miner.port === 0 || miner.ip === '0.0.0.0' || miner.ip === '::'
        ? null
        : Object.freeze({ ip: miner.ip, port: miner.port, ipType: isIP(miner.ip) === 6 ? (6 as const) : (4 as const) }),
    lastUpdate: null,
  });
}

/**
 * A file has incentive as its only score. `policy` names it: "incentive", or
 * "blend" when RANK_BY asks for blend (the router then mixes in quality and
 * health, as for chain subnets).
 */
export function snapshotFromFile(data: MetagraphFile, version: string, addressPolicy: AddressPolicy, policy: 'incentive' | 'blend' = 'incentive'): MetagraphSnapshot {
  const subnets = new Map<number, SubnetSnapshot>();
  for (const subnet of data.subnets) {
    subnets.set(
      subnet.netuid,
      rankSubnet({
        netuid: subnet.netuid,
        models: subnet.models,
        neurons: subnet.miners.map(toNeuron),
        block: null,
        policy,
        scoreOf: (n) => n.incentive,
        addressPolicy,
      }),
    );
  }
  return Object.freeze({ source: 'file', version, block: null, takenAt: Date.now(), subnets });
}

export interface FileSourceOptions {
  readonly path: string;
  readonly addressPolicy: AddressPolicy;
  readonly logger: Logger;
  /** How often the file's mtime is checked. */
  readonly pollMs?: number;
  readonly rankPolicy?: 'incentive' | 'blend';
}

export function createFileSource(options: FileSourceOptions): MetagraphSource {
  const { path, logger } = options;
  let snapshot: MetagraphSnapshot | null = null;
  let error: string | null = null;
  let seen = '';
  let timer: ReturnType<typeof setInterval> | null = null;
  const listeners = new Set<(s: MetagraphSnapshot) => void>();

  /** mtime and size: cheap to poll, and changes on every save (including atomic renames). */
  const fingerprint = () => {
    const stat = statSync(path);
    return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
  };

  function load(): void {
    // Taken before reading, so a write during the read is seen on the next poll.
    seen = fingerprint();
    const { data, version } = readMetagraphFile(path);
    error = null;
    if (snapshot?.version === version) return;
    snapshot = snapshotFromFile(data, version, options.addressPolicy, options.rankPolicy);
    logger.info({ source: 'file', path, version, subnets: data.subnets.length }, 'metagraph file loaded');
    for (const listener of listeners) listener(snapshot);
  }

  function poll(): void {
    try {
      if (fingerprint() !== seen) load();
    } catch (err) {
      const message = (err as Error).message;
      if (message !== error) logger.error({ source: 'file', path, err: message }, 'metagraph file rejected; keeping the last good one');
      error = message;
    }
  }

  return {
    kind: 'file',
    async start() {
      load(); // throws: a bad file at start-up must stop the gateway
      timer = setInterval(poll, options.pollMs ?? 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
    },
    current: () => snapshot,
    status(): SourceStatus {
      return { state: snapshot ? (error ? 'degraded' : 'ok') : 'down', endpoint: path, error };
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
