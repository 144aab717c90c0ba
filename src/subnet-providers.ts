/**
 * Which provider serves each subnet (and so which models it offers), and the
 * configured subnets the catalog lists. A subnet in taogate.config.json gets
 * the provider it names, offering the models the file lists; every
 * other subnet of the metagraph source (NETUIDS, or all the source knows;
 * see ModelCatalog.serveMetagraphSubnets) is served by `openai-epistula`, as
 * before the config file existed.
 */
import { createOpenAiEpistulaProvider } from '../providers/openai-epistula.js';
import type { Provider } from '../providers/provider.js';
import { SUBNET_API_ADAPTERS } from '../providers/subnet-api-kinds.js';
import { createSubnetApiProvider } from '../providers/subnet-api.js';
import type { CatalogSubnet } from './catalog/model-catalog.js';
import type { GatewayFileConfig } from './config-file.js';
import type { EpistulaSigner } from './epistula/signer.js';
import type { HttpTransport, UpstreamTimeouts } from './transport/http-transport.js';

export interface SubnetProviders {
  /** The config file's subnets, in its order (the catalog lists the metagraph's after them). */
  readonly subnets: readonly CatalogSubnet[];
  providerFor(netuid: number): Provider;
  timeoutsFor(netuid: number): UpstreamTimeouts;
  /** Upstreams that exist without a snapshot (subnet APIs), for health bookkeeping. */
  readonly configuredUpstreamIds: ReadonlySet<string>;
}

export interface SubnetProviderDeps {
  readonly file: GatewayFileConfig | null;
  readonly signer: EpistulaSigner;
  /** For chain-published miners: guarded against private addresses. */
  readonly minerTransport: HttpTransport;
  /** For operator-configured upstreams: trusted, so unguarded. */
  readonly apiTransport: HttpTransport;
  readonly timeouts: UpstreamTimeouts;
}

export function buildSubnetProviders(deps: SubnetProviderDeps): SubnetProviders {
  const epistula = createOpenAiEpistulaProvider({ signer: deps.signer, transport: deps.minerTransport });
  const providers = new Map<number, Provider>();
  const timeouts = new Map<number, UpstreamTimeouts>();
  const subnets: CatalogSubnet[] = [];
  const configuredUpstreamIds = new Set<string>();

  for (const subnet of deps.file?.subnets ?? []) {
    const models = subnet.models.map((m) => m.name);
    let provider = epistula;
    if (subnet.api) {
      const adapter = SUBNET_API_ADAPTERS[subnet.api.kind];
      if (!adapter) throw new Error(`subnet ${subnet.netuid}: no adapter for api kind ${subnet.api.kind}`);
      provider = createSubnetApiProvider({ netuid: subnet.netuid, adapter, baseUrl: subnet.api.baseUrl, apiKey: subnet.api.apiKey, models, transport: deps.apiTransport });
      for (const upstream of provider.upstreams(undefined)) configuredUpstreamIds.add(upstream.id);
    } else if (models.length > 0) {
      // Miners whose models the config lists (over the snapshot's): a provider of their own that offers those.
      provider = createOpenAiEpistulaProvider({ signer: deps.signer, transport: deps.minerTransport, models });
    }
    providers.set(subnet.netuid, provider);
    timeouts.set(subnet.netuid, { ...deps.timeouts, ...subnet.timeouts });
    subnets.push({ netuid: subnet.netuid, private: subnet.private, models: subnet.models });
  }
  return {
    subnets,
    providerFor: (netuid) => providers.get(netuid) ?? epistula,
    timeoutsFor: (netuid) => timeouts.get(netuid) ?? deps.timeouts,
    configuredUpstreamIds,
  };
}
