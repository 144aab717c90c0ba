/**
 * Model ids clients use, and what each resolves to. `sn<netuid>/<name>`
 * routes to subnet `netuid` and sends `<name>` upstream; aliases and `auto`
 * expand to an ordered list of such targets, tried in order.
 */
import type { MetagraphSnapshot } from '../chain/snapshot.js';
import { modelNotFound } from '../errors.js';

export interface ModelTarget {
  readonly netuid: number;
  /** The name sent to the upstream in the `model` field. */
  readonly upstreamModel: string;
  /** Canonical id, "sn4/llama-3.1-8b". */
  readonly id: string;
}

export interface ModelEntry {
  readonly id: string;
  readonly ownedBy: string;
  readonly kind: 'subnet' | 'alias' | 'auto';
  readonly targets: readonly ModelTarget[];
}

const SUBNET_MODEL = /^sn(\d{1,5})\/(.+)$/;
export const AUTO_MODEL = 'auto';

export class ModelCatalog {
  constructor(
    readonly netuids: readonly number[],
    private readonly aliases: Readonly<Record<string, readonly string[]>>,
  ) {}

  /** Targets for a requested model id, best first; throws a 404 when unknown. */
  resolve(model: string, snapshot: MetagraphSnapshot | null): ModelTarget[] {
    if (model === AUTO_MODEL) return this.autoTargets(snapshot);
    const aliased = this.aliases[model];
    if (aliased) return aliased.map((id) => this.resolveSubnetModel(id, snapshot, model));
    return [this.resolveSubnetModel(model, snapshot, model)];
  }

  private resolveSubnetModel(id: string, snapshot: MetagraphSnapshot | null, requested: string): ModelTarget {
    const match = SUBNET_MODEL.exec(id);
    if (!match) throw modelNotFound(requested, 'model ids look like sn<netuid>/<model>, an alias, or auto (see GET /v1/models)');
    const netuid = Number(match[1]);
    const name = match[2] as string;
    if (!this.netuids.includes(netuid)) throw modelNotFound(requested, `subnet ${netuid} is not configured on this gateway`);
    const models = snapshot?.subnets.get(netuid)?.models ?? [];
    // A subnet without a model list lets any name through: its miners decide.
    if (models.length > 0 && !models.includes(name)) {
      throw modelNotFound(requested, `subnet ${netuid} serves ${models.map((m) => `sn${netuid}/${m}`).join(', ')}`);
    }
    return { netuid, upstreamModel: name, id: `sn${netuid}/${name}` };
  }

  /** `auto`: the first model of each configured subnet, subnets with routable miners first. */
  private autoTargets(snapshot: MetagraphSnapshot | null): ModelTarget[] {
    const targets: Array<ModelTarget & { routable: boolean }> = [];
    for (const netuid of this.netuids) {
      const subnet = snapshot?.subnets.get(netuid);
      const name = subnet?.models[0];
      if (!name) continue;
      targets.push({ netuid, upstreamModel: name, id: `sn${netuid}/${name}`, routable: subnet.ranked.length > 0 });
    }
    if (targets.length === 0) throw modelNotFound(AUTO_MODEL, 'no configured subnet lists a model yet');
    return targets.sort((a, b) => Number(b.routable) - Number(a.routable)).map(({ routable: _, ...t }) => t);
  }

  list(snapshot: MetagraphSnapshot | null): ModelEntry[] {
    const entries: ModelEntry[] = [];
    for (const netuid of this.netuids) {
      for (const name of snapshot?.subnets.get(netuid)?.models ?? []) {
        const target = { netuid, upstreamModel: name, id: `sn${netuid}/${name}` };
        entries.push({ id: target.id, ownedBy: `sn${netuid}`, kind: 'subnet', targets: [target] });
      }
    }
    for (const [alias, ids] of Object.entries(this.aliases)) {
      const targets = ids.flatMap((id) => {
        try {
          return [this.resolveSubnetModel(id, snapshot, alias)];
        } catch {
          return [];
        }
      });
      entries.push({ id: alias, ownedBy: 'taogate', kind: 'alias', targets });
    }
    try {
      entries.push({ id: AUTO_MODEL, ownedBy: 'taogate', kind: 'auto', targets: this.autoTargets(snapshot) });
    } catch {
      // No subnet lists a model yet: `auto` has nothing to resolve to.
    }
    return entries;
  }
}
