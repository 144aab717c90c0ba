/**
 * The store (memory, or Redis shared by replicas): whether it is reachable,
 * how often that changed, and which operations failed. Failures are counted
 * by the store wrapper (src/store/failure-counting-store.ts) as they happen,
 * including the ones a caller absorbed by failing open.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { STORE_OPERATIONS, type StoreOperation } from '../store/failure-counting-store.js';
import type { Store, StoreState } from '../store/store.js';

const STORE_STATES: readonly StoreState[] = ['up', 'down'];

export class StoreGauges {
  private readonly errors: Counter<'backend' | 'operation'>;
  private readonly up: Gauge<'backend'>;
  private readonly changes: Counter<'backend' | 'state'>;
  private store: Store | null = null;
  private unsubscribe: () => void = () => {};

  constructor(registry: Registry) {
    const registers = [registry];
    this.errors = new Counter({ name: 'taogate_store_errors_total', help: 'Store operations that failed (unreachable, timed out, rejected)', labelNames: ['backend', 'operation'], registers });
    this.up = new Gauge({ name: 'taogate_store_up', help: '1 while the store is reachable', labelNames: ['backend'], registers });
    this.changes = new Counter({ name: 'taogate_store_state_changes_total', help: 'Times the store went up or down', labelNames: ['backend', 'state'], registers });
  }

  /** Called by the store wrapper for each failed operation. */
  failed(backend: Store['kind'], operation: StoreOperation): void {
    this.errors.inc({ backend, operation });
  }

  watch(store: Store): void {
    this.store = store;
    // Present from the start, so "no errors yet" reads as 0 rather than as a missing series.
    for (const operation of STORE_OPERATIONS) this.errors.inc({ backend: store.kind, operation }, 0);
    for (const state of STORE_STATES) this.changes.inc({ backend: store.kind, state }, 0);
    this.unsubscribe = store.onStateChange((state: StoreState) => this.changes.inc({ backend: store.kind, state }));
  }

  refresh(): void {
    if (this.store) this.up.set({ backend: this.store.kind }, this.store.state() === 'up' ? 1 : 0);
  }

  close(): void {
    this.unsubscribe();
  }
}
