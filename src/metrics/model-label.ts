/**
 * The `model` label: a bounded set of values, never whatever string a client
 * sent. A model id the catalog lists (subnet models, aliases, `auto`) is
 * kept; a name passed through to a served subnet that lists no models is
 * `sn<netuid>/other`; anything else is `other`; requests without a model
 * (not a completion, or a body that did not parse) are `none`.
 */
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { MetagraphSnapshot, MetagraphSource } from '../chain/snapshot.js';

export const NO_MODEL = 'none';
export const OTHER_MODEL = 'other';

const SUBNET_MODEL = /^sn(\d{1,5})\//;

export class ModelLabels {
  private known = new Set<string>();
  private passThrough = new Map<number, string>();
  /** The snapshot `known` was built from: rebuilt only when the source swaps in a new one. */
  private builtFor: MetagraphSnapshot | null | undefined = undefined;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly metagraph: MetagraphSource,
  ) {}

  of(model: string | undefined): string {
    if (model === undefined) return NO_MODEL;
    const snapshot = this.metagraph.current();
    if (snapshot !== this.builtFor) this.rebuild(snapshot);
    if (this.known.has(model)) return model;
    const match = SUBNET_MODEL.exec(model);
    return (match && this.passThrough.get(Number(match[1]))) ?? OTHER_MODEL;
  }

  private rebuild(snapshot: MetagraphSnapshot | null): void {
    this.builtFor = snapshot;
    this.known = new Set(this.catalog.list(snapshot).map((entry) => entry.id));
    this.passThrough = new Map();
    for (const netuid of this.catalog.netuids) {
      // A subnet in the snapshot whose provider offers no list lets any name through.
      if (snapshot?.subnets.has(netuid) && this.catalog.modelIds(netuid, snapshot).length === 0) this.passThrough.set(netuid, `sn${netuid}/${OTHER_MODEL}`);
    }
  }
}
