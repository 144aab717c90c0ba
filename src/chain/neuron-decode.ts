/**
 * Turns the decoded result of `NeuronInfoRuntimeApi.get_neurons_lite`
 * (a Vec<NeuronInfoLite> built by @polkadot/api from the chain's own
 * metadata) into the router's `Neuron`. The codec is checked field by field:
 * a node that returns the wrong type or a truncated answer must fail the
 * sync loudly rather than produce a plausible-looking metagraph.
 */
import { Compact, GenericAccountId32, Struct, Tuple, UInt, Vec, bool } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { ipFromU128 } from './axon-ip.js';
import type { Axon, Neuron } from './snapshot.js';

const RAO_PER_TAO = 1_000_000_000n;
const U16_MAX = 65535;

export class NeuronDecodeError extends Error {
  override readonly name = 'NeuronDecodeError';
}

function field(struct: Struct, name: string, where: string): Codec {
  const value = struct.get(name);
  if (value === undefined) throw new NeuronDecodeError(`${where}: missing field ${name}`);
  return value;
}

function integer(struct: Struct, name: string, where: string): bigint {
  const value = field(struct, name, where);
  if (value instanceof Compact || value instanceof UInt) return value.toBigInt();
  throw new NeuronDecodeError(`${where}: ${name} is not an unsigned integer`);
}

function flag(struct: Struct, name: string, where: string): boolean {
  const value = field(struct, name, where);
  if (value instanceof bool) return value.isTrue;
  throw new NeuronDecodeError(`${where}: ${name} is not a bool`);
}

/**
 * ss58 text by (format, public key). Encoding hashes every key (blake2) and
 * a subnet's keys barely change between syncs: caching saves ~8 ms of a
 * ~35 ms 256-neuron sync. Bounded so a churning chain cannot grow it forever.
 */
const ss58Cache = new Map<string, string>();
const SS58_CACHE_LIMIT = 65_536;

function accountId(value: Codec | undefined, what: string, where: string): string {
  if (!(value instanceof GenericAccountId32) || value.length !== 32) throw new NeuronDecodeError(`${where}: ${what} is not a 32-byte account id`);
  const key = `${value.registry.chainSS58 ?? ''}:${value.toHex()}`;
  let text = ss58Cache.get(key);
  if (text === undefined) {
    // toString() gives ss58 in the chain's own format (42 on subtensor).
    text = value.toString();
    if (ss58Cache.size >= SS58_CACHE_LIMIT) ss58Cache.clear();
    ss58Cache.set(key, text);
  }
  return text;
}

function struct(value: Codec | undefined, what: string): Struct {
  if (value instanceof Struct) return value;
  throw new NeuronDecodeError(`${what} is not a struct`);
}

/** Sum of (staker, rao) pairs, in TAO. */
function stakeTao(neuron: Struct, where: string): number {
  const stake = field(neuron, 'stake', where);
  if (!(stake instanceof Vec)) throw new NeuronDecodeError(`${where}: stake is not a list`);
  let rao = 0n;
  for (const entry of stake as Vec<Codec>) {
    const amount = entry instanceof Tuple ? entry[1] : undefined;
    if (!(amount instanceof Compact || amount instanceof UInt)) throw new NeuronDecodeError(`${where}: stake entry is not (account, amount)`);
    rao += amount.toBigInt();
  }
  // Split so stakes above 2^53 rao (9M TAO) keep their precision in whole TAO.
  return Number(rao / RAO_PER_TAO) + Number(rao % RAO_PER_TAO) / Number(RAO_PER_TAO);
}

function axon(neuron: Struct, where: string): Axon | null {
  const info = struct(neuron.get('axonInfo'), `${where}: axon_info`);
  const ip = integer(info, 'ip', `${where} axon`);
  const port = Number(integer(info, 'port', `${where} axon`));
  const ipType = Number(integer(info, 'ipType', `${where} axon`));
  // ip 0 or port 0 is how a neuron says "no axon"; any other ip_type is unusable.
  if (ip === 0n || port === 0 || (ipType !== 4 && ipType !== 6)) return null;
  return Object.freeze({ ip: ipFromU128(ip, ipType), port, ipType });
}

/** One NeuronInfoLite, with the netuid it claims to belong to. */
export function decodeNeuronLite(value: Codec, where: string): { readonly netuid: number; readonly neuron: Neuron } {
  const neuron = struct(value, where);
  const incentive = Number(integer(neuron, 'incentive', where));
  if (incentive > U16_MAX) throw new NeuronDecodeError(`${where}: incentive ${incentive} exceeds u16`);
  const decoded: Neuron = Object.freeze({
    uid: Number(integer(neuron, 'uid', where)),
    hotkey: accountId(neuron.get('hotkey'), 'hotkey', where),
    coldkey: accountId(neuron.get('coldkey'), 'coldkey', where),
    stakeTao: stakeTao(neuron, where),
    incentive: incentive / U16_MAX,
    active: flag(neuron, 'active', where),
    validatorPermit: flag(neuron, 'validatorPermit', where),
    axon: axon(neuron, where),
    lastUpdate: Number(integer(neuron, 'lastUpdate', where)),
  });
  return { netuid: Number(integer(neuron, 'netuid', where)), neuron: decoded };
}

/**
 * Decodes a whole subnet. Every neuron must belong to `netuid` and uids must
 * be distinct: a decode of garbage bytes rarely satisfies both.
 */
export function decodeNeuronsLite(value: Codec, netuid: number): Neuron[] {
  if (!(value instanceof Vec)) throw new NeuronDecodeError(`subnet ${netuid}: get_neurons_lite did not return a list`);
  const seen = new Set<number>();
  const neurons: Neuron[] = [];
  let position = 0;
  for (const item of value as Vec<Codec>) {
    const where = `subnet ${netuid} neuron #${position++}`;
    const { netuid: claimed, neuron } = decodeNeuronLite(item, where);
    if (claimed !== netuid) throw new NeuronDecodeError(`${where}: belongs to subnet ${claimed}`);
    if (seen.has(neuron.uid)) throw new NeuronDecodeError(`${where}: duplicate uid ${neuron.uid}`);
    seen.add(neuron.uid);
    neurons.push(neuron);
  }
  return neurons;
}
