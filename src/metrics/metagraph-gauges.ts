/**
 * The metagraph source as Prometheus sees it: the block and age of the
 * snapshot being routed on, the source's state, and how often it swapped in
 * a new snapshot. "Age" is the time since the data was read: a chain source
 * refreshes it every METAGRAPH_REFRESH_S while the chain answers, a file
 * source whenever the file changes, so a growing age on a chain source means
 * it is serving an old metagraph.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetagraphSource, SourceState } from '../chain/snapshot.js';

const SOURCE_STATES: readonly SourceState[] = ['starting', 'ok', 'degraded', 'down'];

export class MetagraphGauges {
  private readonly block: Gauge<'source'>;
  private readonly age: Gauge<'source'>;
  private readonly state: Gauge<'source' | 'state'>;
  private readonly updates: Counter<'source'>;
  private readonly unsubscribe: () => void;

  constructor(
    registry: Registry,
    private readonly metagraph: MetagraphSource,
    private readonly clock: () => number = Date.now,
  ) {
    const registers = [registry];
    this.block = new Gauge({ name: 'taogate_metagraph_block', help: 'Chain block of the metagraph being routed on (absent for a metagraph file)', labelNames: ['source'], registers });
    this.age = new Gauge({ name: 'taogate_metagraph_age_seconds', help: 'Seconds since the metagraph being routed on was read from its source', labelNames: ['source'], registers });
    this.state = new Gauge({ name: 'taogate_metagraph_source_state', help: 'The metagraph source\'s state: 1 for the current one (starting, ok, degraded = serving the last good snapshot, down = none)', labelNames: ['source', 'state'], registers });
    this.updates = new Counter({ name: 'taogate_metagraph_updates_total', help: 'Snapshots the metagraph source swapped in', labelNames: ['source'], registers });
    this.updates.inc({ source: metagraph.kind }, 0);
    this.unsubscribe = metagraph.onUpdate(() => this.updates.inc({ source: metagraph.kind }));
  }

  refresh(): void {
    this.block.reset();
    this.age.reset();
    const source = this.metagraph.kind;
    const snapshot = this.metagraph.current();
    if (snapshot) {
      if (snapshot.block !== null) this.block.set({ source }, snapshot.block);
      this.age.set({ source }, Math.max(0, (this.clock() - snapshot.takenAt) / 1000));
    }
    const current = this.metagraph.status().state;
    for (const state of SOURCE_STATES) this.state.set({ source, state }, state === current ? 1 : 0);
  }

  close(): void {
    this.unsubscribe();
  }
}
