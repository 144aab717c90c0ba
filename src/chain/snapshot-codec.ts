/**
 * Serialises a MetagraphSnapshot for the store, so a restarted gateway
 * serves the last known metagraph at once while the chain reconnects. JSON
 * has no Map, and ranked miners point at neurons, so both are written as
 * plain lists and rebuilt on read. Reading validates everything: the store
 * is outside this process and may hold an old or damaged value.
 */
import { z } from 'zod';
import type { MetagraphSnapshot, Neuron, RankedMiner, SubnetSnapshot } from './snapshot.js';

const CODEC_VERSION = 1;

/** Where a saved snapshot lives: the chain source's store key, the Workers KV key. */
export const SNAPSHOT_STORE_KEY = 'metagraph:snapshot';

const AxonSchema = z.object({ ip: z.string(), port: z.number().int().min(1).max(65535), ipType: z.union([z.literal(4), z.literal(6)]) });

const NeuronSchema = z.object({
  uid: z.number().int().min(0).max(65535),
  hotkey: z.string(),
  coldkey: z.string().nullable(),
  stakeTao: z.number().min(0),
  incentive: z.number().min(0).max(1),
  active: z.boolean(),
  validatorPermit: z.boolean(),
  axon: AxonSchema.nullable(),
  lastUpdate: z.number().int().nullable(),
});

const UnroutableSchema = z.enum(['no_axon', 'inactive', 'zero_score', 'private_address']);

const SubnetSchema = z.object({
  netuid: z.number().int().min(0).max(65535),
  models: z.array(z.string()),
  neurons: z.array(NeuronSchema),
  /** [uid, score] best first; rank is the position. */
  ranked: z.array(z.tuple([z.number().int(), z.number()])),
  unroutable: z.array(z.tuple([z.number().int(), UnroutableSchema])),
  rankPolicy: z.string(),
  noRouteReason: z.string().nullable(),
  block: z.number().int().nullable(),
});

/** A saved snapshot as JSON (also the body of PUT /admin/metagraph). */
export const SavedSnapshotSchema = z.object({
  codec: z.literal(CODEC_VERSION),
  source: z.enum(['file', 'chain', 'devnet', 'store', 'none']),
  version: z.string(),
  block: z.number().int().nullable(),
  takenAt: z.number(),
  subnets: z.array(SubnetSchema),
});

export class SnapshotCodecError extends Error {
  override readonly name = 'SnapshotCodecError';
}

export function encodeSnapshot(snapshot: MetagraphSnapshot): string {
  const subnets: Array<z.input<typeof SubnetSchema>> = [...snapshot.subnets.values()].map((s) => ({
    netuid: s.netuid,
    models: [...s.models],
    neurons: [...s.neurons],
    ranked: s.ranked.map((m) => [m.neuron.uid, m.score]),
    unroutable: [...s.unroutable],
    rankPolicy: s.rankPolicy,
    noRouteReason: s.noRouteReason,
    block: s.block,
  }));
  const body: z.input<typeof SavedSnapshotSchema> = {
    codec: CODEC_VERSION,
    source: snapshot.source,
    version: snapshot.version,
    block: snapshot.block,
    takenAt: snapshot.takenAt,
    subnets,
  };
  return JSON.stringify(body);
}

function decodeSubnet(data: z.infer<typeof SubnetSchema>): SubnetSnapshot {
  const neurons = data.neurons.map((n): Neuron => Object.freeze({ ...n, axon: n.axon ? Object.freeze({ ...n.axon }) : null }));
  const byUid = new Map(neurons.map((n) => [n.uid, n]));
  const ranked = data.ranked.map(([uid, score], i): RankedMiner => {
    const neuron = byUid.get(uid);
    if (!neuron) throw new SnapshotCodecError(`subnet ${data.netuid}: ranked uid ${uid} is not among its neurons`);
    return Object.freeze({ neuron, score, rank: i + 1 });
  });
  return Object.freeze({
    netuid: data.netuid,
    models: Object.freeze([...data.models]),
    neurons: Object.freeze(neurons),
    ranked: Object.freeze(ranked),
    unroutable: new Map(data.unroutable),
    rankPolicy: data.rankPolicy,
    noRouteReason: data.noRouteReason,
    block: data.block,
  });
}

/**
 * Rebuilds a snapshot. `source` overrides where it claims to come from
 * (a restored snapshot is reported as 'store'); `takenAt` is kept so its
 * age stays visible.
 */
export function decodeSnapshot(text: string, source?: MetagraphSnapshot['source']): MetagraphSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SnapshotCodecError(`saved snapshot is not JSON: ${(error as Error).message}`);
  }
  const parsed = SavedSnapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SnapshotCodecError(`saved snapshot is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown'}`);
  }
  const data = parsed.data;
  return Object.freeze({
    source: source ?? data.source,
    version: data.version,
    block: data.block,
    takenAt: data.takenAt,
    subnets: new Map(data.subnets.map((s) => [s.netuid, decodeSubnet(s)])),
  });
}
