/**
 * Generic adapter for miners that speak the OpenAI wire format behind
 * Epistula v2 signatures: POST <axon>/v1/chat/completions, signed by the
 * gateway hotkey for the miner's hotkey.
 */
import type { SubnetSnapshot } from '../src/chain/snapshot.js';
import type { EpistulaSigner } from '../src/epistula/signer.js';
import { upstreamFailed } from '../src/errors.js';
import { withStreamUsage } from '../src/openai/requests.js';
import type { HttpTransport } from '../src/transport/http-transport.js';
import type { CompletionEndpoint, Provider, Upstream } from './provider.js';

const PATHS: Record<CompletionEndpoint, string> = {
  chat: '/v1/chat/completions',
  completions: '/v1/completions',
};

function originOf(ip: string, ipType: 4 | 6, port: number): string {
  return ipType === 6 ? `http://[${ip}]:${port}` : `http://${ip}:${port}`;
}

/** Shortens an upstream's error text for a client-facing message. */
function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

export interface OpenAiEpistulaDeps {
  readonly signer: EpistulaSigner;
  readonly transport: HttpTransport;
  /** Model names from the config file; empty or absent = the snapshot's (SUBNET_MODELS, the metagraph file). */
  readonly models?: readonly string[];
}

export function createOpenAiEpistulaProvider({ signer, transport, models = [] }: OpenAiEpistulaDeps): Provider {
  const configuredModels = Object.freeze([...models]);
  // Snapshots are immutable, so each one's upstream list is built once.
  const upstreamsBySnapshot = new WeakMap<SubnetSnapshot, readonly Upstream[]>();

  return {
    kind: 'openai-epistula',
    source: 'metagraph',

    models: (subnet) => (configuredModels.length > 0 ? configuredModels : (subnet?.models ?? [])),

    upstreams(subnet) {
      if (!subnet) return [];
      let list = upstreamsBySnapshot.get(subnet);
      if (!list) {
        list = subnet.ranked.flatMap(({ neuron, score, rank }) =>
          neuron.axon
            ? [
                Object.freeze({
                  id: `${subnet.netuid}/${neuron.uid}/${neuron.hotkey}`,
                  netuid: subnet.netuid,
                  uid: neuron.uid,
                  hotkey: neuron.hotkey,
                  origin: originOf(neuron.axon.ip, neuron.axon.ipType, neuron.axon.port),
                  weight: score,
                  rank,
                }),
              ]
            : [],
        );
        upstreamsBySnapshot.set(subnet, list);
      }
      return list;
    },

    // Streams always ask the miner for usage: metering needs the miner's own counts.
    encodeRequest(request, upstreamModel) {
      return JSON.stringify(withStreamUsage({ ...request, model: upstreamModel }));
    },

    send({ endpoint, body, upstream, signal, timeouts }) {
      // The exact bytes that are hashed and signed are the bytes sent.
      const bytes = Buffer.from(body);
      const headers = signer.headers(bytes, upstream.hotkey ?? '');
      headers['content-type'] = 'application/json';
      return transport.post(upstream.origin, PATHS[endpoint], headers, bytes, { signal, timeouts });
    },

    // Miners are sent no secret of the gateway's: nothing to take out of what they say.
    redact: (text) => text,

    mapError({ status, bodyText }, upstream) {
      const detail = excerpt(bodyText);
      const message = `miner ${upstream.id} answered HTTP ${status}${detail ? `: ${detail}` : ''}`;
      // Any miner failure may be another miner's success: 4xx from a miner
      // usually means it rejected our signature or model, not the client's input.
      return { retryable: true, error: upstreamFailed(message, status >= 500 ? 'miner_error' : 'miner_rejected') };
    },
  };
}
