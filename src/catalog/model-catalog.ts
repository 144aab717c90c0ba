/**
 * One model catalog across subnets, whichever provider serves them. Model
 * ids clients use, and what each resolves to: `sn<netuid>/<name>` routes to
 * subnet `netuid` and sends the model's upstream name (a config model's
 * `upstream`, else `<name>`); aliases and `auto` expand to a list of such
 * (subnet, model) candidates that the candidate policy orders.
 *
 * A subnet's models are the ones its provider offers (Provider.models):
 * taogate.config.json's when it lists them (a subnet API always does), else
 * the metagraph snapshot's (SUBNET_MODELS or the metagraph file); a
 * metagraph subnet without any list lets every name through to its miners.
 * The config file's entries still give each name its upstream name, context
 * length and aliases.
 */
import type { Provider } from '../../providers/provider.js';
import type { MetagraphSnapshot } from '../chain/snapshot.js';
import type { ConfiguredAlias, ConfiguredModel } from '../config-file.js';
import { modelNotFound } from '../errors.js';
import type { RoutePolicy } from '../router/candidate-policy.js';

export interface ModelTarget {
  readonly netuid: number;
  /** The name sent to the upstream in the `model` field. */
  readonly upstreamModel: string;
  /** Canonical id, "sn4/llama-3.1-8b". */
  readonly id: string;
}

export interface CatalogSubnet {
  readonly netuid: number;
  readonly private: boolean;
  /** From the config file (upstream names, context lengths, aliases); which names are offered is the provider's word. */
  readonly models: readonly ConfiguredModel[];
}

export interface Resolution {
  readonly kind: 'subnet' | 'alias' | 'auto';
  /** Candidates in configured order. */
  readonly targets: readonly ModelTarget[];
  /** The alias's own policy, or null for the gateway's default. */
  readonly policy: RoutePolicy | null;
}

export interface ModelEntry {
  readonly id: string;
  readonly ownedBy: string;
  readonly kind: Resolution['kind'];
  readonly targets: readonly ModelTarget[];
  readonly contextLength: number | null;
  /** Every target is on a subnet marked private. */
  readonly private: boolean;
}

const SUBNET_MODEL = /^sn(\d{1,5})\/(.+)$/;
export const AUTO_MODEL = 'auto';

/** Aliases from the config file and MODEL_ALIASES, plus each model's own `aliases`, appended in subnet order. */
export function mergeAliases(
  subnets: readonly CatalogSubnet[],
  ...sources: ReadonlyArray<Readonly<Record<string, ConfiguredAlias>>>
): Record<string, ConfiguredAlias> {
  const merged: Record<string, { targets: string[]; policy: RoutePolicy | null }> = {};
  const add = (alias: string, ids: readonly string[], policy: RoutePolicy | null) => {
    const entry = (merged[alias] ??= { targets: [], policy: null });
    for (const id of ids) if (!entry.targets.includes(id)) entry.targets.push(id);
    entry.policy ??= policy;
  };
  for (const source of sources) for (const [alias, { targets, policy }] of Object.entries(source)) add(alias, targets, policy);
  for (const subnet of subnets) for (const model of subnet.models) for (const alias of model.aliases) add(alias, [`sn${subnet.netuid}/${model.name}`], null);
  return merged;
}

export class ModelCatalog {
  /** Served subnets in catalog order: the configured ones, then the metagraph's. */
  netuids: readonly number[] = [];
  private subnets: ReadonlyMap<number, CatalogSubnet> = new Map();

  /**
   * `configured`: the config file's subnets, always served; `providerFor`:
   * each subnet's provider, asked which models it offers; `metagraphNetuids`:
   * the metagraph source's subnets served besides them (see serveMetagraphSubnets).
   */
  constructor(
    private readonly configured: readonly CatalogSubnet[],
    private readonly aliases: Readonly<Record<string, ConfiguredAlias>>,
    private readonly providerFor: (netuid: number) => Provider,
    metagraphNetuids: readonly number[] = [],
  ) {
    this.serveMetagraphSubnets(metagraphNetuids);
  }

  /**
   * Serves these subnets of the metagraph source (by `openai-epistula`, the
   * models their snapshot lists) besides the configured ones. Without
   * NETUIDS, the gateway calls it with every new snapshot's subnets, so a
   * subnet added to the source is served without a restart.
   */
  serveMetagraphSubnets(netuids: readonly number[]): void {
    const subnets = new Map(this.configured.map((s) => [s.netuid, s]));
    for (const netuid of netuids) if (!subnets.has(netuid)) subnets.set(netuid, { netuid, private: false, models: [] });
    // Swapped whole: a request reads either the old catalog or the new one.
    this.subnets = subnets;
    this.netuids = [...subnets.keys()];
  }

  isPrivate(netuid: number): boolean {
    return this.subnets.get(netuid)?.private ?? false;
  }

  /**
   * Candidates for a requested model id, in configured order; throws a 404
   * when unknown. An alias's candidates that cannot serve right now (a
   * subnet no longer configured, a model its subnet no longer lists) are
   * dropped, as /v1/models drops them; only an alias left with none is a 404,
   * naming why each was dropped.
   */
  resolve(model: string, snapshot: MetagraphSnapshot | null): Resolution {
    if (model === AUTO_MODEL) return { kind: 'auto', targets: this.autoTargets(snapshot), policy: null };
    const alias = this.aliases[model];
    if (alias) {
      const { targets, dropped } = this.aliasTargets(alias.targets, snapshot);
      if (targets.length === 0) throw modelNotFound(model, `none of the alias's candidates can serve it: ${dropped.join('; ')}`);
      return { kind: 'alias', targets, policy: alias.policy };
    }
    const target = this.lookup(model, snapshot);
    if (typeof target === 'string') throw modelNotFound(model, target);
    return { kind: 'subnet', targets: [target], policy: null };
  }

  /** An alias's candidates that resolve now, and for each other one why not. */
  private aliasTargets(ids: readonly string[], snapshot: MetagraphSnapshot | null): { targets: ModelTarget[]; dropped: string[] } {
    const targets: ModelTarget[] = [];
    const dropped: string[] = [];
    for (const id of ids) {
      const target = this.lookup(id, snapshot);
      if (typeof target === 'string') dropped.push(`${id}: ${target}`);
      else targets.push(target);
    }
    return { targets, dropped };
  }

  /** Names a subnet serves right now, as its provider offers them (empty = any). */
  private modelNames(netuid: number, snapshot: MetagraphSnapshot | null): readonly string[] {
    return this.providerFor(netuid).models(snapshot?.subnets.get(netuid));
  }

  private target(netuid: number, name: string): ModelTarget {
    const configured = this.subnets.get(netuid)?.models.find((m) => m.name === name);
    return { netuid, upstreamModel: configured?.upstream ?? name, id: `sn${netuid}/${name}` };
  }

  /** `sn<netuid>/<name>` as a target, or why it is none. */
  private lookup(id: string, snapshot: MetagraphSnapshot | null): ModelTarget | string {
    const match = SUBNET_MODEL.exec(id);
    if (!match) return 'model ids look like sn<netuid>/<model>, an alias, or auto (see GET /v1/models)';
    const netuid = Number(match[1]);
    const name = match[2] as string;
    if (!this.subnets.has(netuid)) return `subnet ${netuid} is not configured on this gateway`;
    const models = this.modelNames(netuid, snapshot);
    // A subnet without a model list lets any name through: its miners decide.
    if (models.length > 0 && !models.includes(name)) return `subnet ${netuid} serves ${models.map((m) => `sn${netuid}/${m}`).join(', ')}`;
    return this.target(netuid, name);
  }

  /** A served subnet's model ids ("sn64/deepseek-v3"), as its provider offers them (empty = any name). */
  modelIds(netuid: number, snapshot: MetagraphSnapshot | null): string[] {
    return this.subnets.has(netuid) ? this.modelNames(netuid, snapshot).map((name) => `sn${netuid}/${name}`) : [];
  }

  /** A served subnet's first offered model, or null. */
  firstModel(netuid: number, snapshot: MetagraphSnapshot | null): ModelTarget | null {
    if (!this.subnets.has(netuid)) return null;
    const name = this.modelNames(netuid, snapshot)[0];
    return name === undefined ? null : this.target(netuid, name);
  }

  /** `auto`: the first model of each served subnet, in subnet order. */
  private autoTargets(snapshot: MetagraphSnapshot | null): ModelTarget[] {
    const targets = this.netuids.flatMap((netuid) => this.firstModel(netuid, snapshot) ?? []);
    if (targets.length === 0) throw modelNotFound(AUTO_MODEL, 'no configured subnet lists a model yet');
    return targets;
  }

  private entry(id: string, ownedBy: string, kind: ModelEntry['kind'], targets: readonly ModelTarget[]): ModelEntry {
    const first = targets[0];
    const configured = first && this.subnets.get(first.netuid)?.models.find((m) => `sn${first.netuid}/${m.name}` === first.id);
    return {
      id,
      ownedBy,
      kind,
      targets,
      contextLength: configured?.contextLength ?? null,
      private: targets.length > 0 && targets.every((t) => this.isPrivate(t.netuid)),
    };
  }

  list(snapshot: MetagraphSnapshot | null): ModelEntry[] {
    const entries: ModelEntry[] = [];
    for (const netuid of this.netuids) {
      for (const name of this.modelNames(netuid, snapshot)) entries.push(this.entry(`sn${netuid}/${name}`, `sn${netuid}`, 'subnet', [this.target(netuid, name)]));
    }
    for (const [alias, { targets: ids }] of Object.entries(this.aliases)) {
      // An alias left with no candidate is a 404 to resolve: listed, it would be an id the gateway does not route.
      const { targets } = this.aliasTargets(ids, snapshot);
      if (targets.length > 0) entries.push(this.entry(alias, 'taogate', 'alias', targets));
    }
    try {
      entries.push(this.entry(AUTO_MODEL, 'taogate', 'auto', this.autoTargets(snapshot)));
    } catch {
      // No subnet lists a model yet: `auto` has nothing to resolve to.
    }
    return entries;
  }
}
