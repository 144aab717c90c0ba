/**
 * The gateway's Prometheus metrics (GET /metrics). One registry per gateway,
 * never prom-client's global one, so several gateways in one process (the
 * tests) keep their own counts.
 *
 * Two kinds of metric:
 * - pushed as requests happen: request counts and durations, time to first
 *   token, completion durations, store failures. Each is one label lookup
 *   and an add; every label value comes from a bounded set (route patterns,
 *   catalog model ids, status codes).
 * - pulled at scrape time from the objects that already hold the state
 *   (health registry, metagraph source, store, response cache), so they
 *   cost the request path nothing.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import type { Upstream } from '../../providers/provider.js';
import type { ModelCatalog } from '../catalog/model-catalog.js';
import type { MetagraphSource, SubnetSnapshot } from '../chain/snapshot.js';
import type { HealthRegistry } from '../router/health-registry.js';
import type { StoreOperation } from '../store/failure-counting-store.js';
import type { Store } from '../store/store.js';
import type { CacheStats } from '../cache/cache-stats.js';
import { CacheCounters } from './cache-counters.js';
import { MetagraphGauges } from './metagraph-gauges.js';
import { MinerGauges } from './miner-gauges.js';
import { ModelLabels, OTHER_MODEL } from './model-label.js';
import { StoreGauges } from './store-gauges.js';

/** Seconds: from a cached answer (milliseconds) to a long generation (minutes). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export type CompletionMode = 'json' | 'stream';
/** How a completion ended once a miner answered: fully, cut mid-stream, or with the client gone. */
export type CompletionOutcome = 'ok' | 'interrupted' | 'client_gone';

/** The gateway parts the scrape-time metrics read. */
export interface MetricSources {
  readonly store: Store;
  readonly metagraph: MetagraphSource;
  readonly catalog: ModelCatalog;
  readonly health: HealthRegistry;
  readonly upstreamsOf: (netuid: number, subnet: SubnetSnapshot | undefined) => readonly Upstream[] | null;
  /** METRICS_MINERS_PER_SUBNET */
  readonly minersPerSubnet: number;
}

interface Refreshable {
  refresh(): void;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status' | 'model'>;
  private readonly requestSeconds: Histogram<'route' | 'method' | 'status'>;
  private readonly ttft: Histogram<'model' | 'mode'>;
  private readonly completionSeconds: Histogram<'model' | 'mode' | 'outcome'>;
  private readonly store = new StoreGauges(this.registry);
  private readonly pulled: Refreshable[] = [this.store];
  private readonly closers: Array<() => void> = [() => this.store.close()];
  private models: ModelLabels | null = null;

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'taogate_http_requests_total',
      help: 'HTTP requests by route pattern, method, status and model (catalog id, sn<netuid>/other, other, or none)',
      labelNames: ['route', 'method', 'status', 'model'],
      registers,
    });
    const latency = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets: LATENCY_BUCKETS, registers });
    this.requestSeconds = latency(
      'taogate_http_request_duration_seconds',
      'Time to the response headers (for a stream: until it starts; see taogate_completion_duration_seconds)',
      ['route', 'method', 'status'],
    );
    this.ttft = latency(
      'taogate_completion_ttft_seconds',
      'Time to first token: to the first valid chunk of a stream, or to the whole answer of a JSON completion',
      ['model', 'mode'],
    );
    this.completionSeconds = latency(
      'taogate_completion_duration_seconds',
      "Time to the end of a completion a miner answered (a stream's last chunk), by how it ended",
      ['model', 'mode', 'outcome'],
    );
  }

  /** The bounded `model` label of a requested model id. */
  modelLabel(model: string | undefined): string {
    return this.models?.of(model) ?? OTHER_MODEL;
  }

  /** One HTTP request answered; `route` is the matched route pattern, never the raw path. */
  requestServed(route: string, method: string, model: string | undefined, status: number, seconds: number): void {
    const code = String(status);
    this.requests.inc({ route, method, status: code, model: this.modelLabel(model) });
    this.requestSeconds.observe({ route, method, status: code }, seconds);
  }

  firstToken(model: string, mode: CompletionMode, seconds: number): void {
    this.ttft.observe({ model: this.modelLabel(model), mode }, seconds);
  }

  completionEnded(model: string, mode: CompletionMode, outcome: CompletionOutcome, seconds: number): void {
    this.completionSeconds.observe({ model: this.modelLabel(model), mode, outcome }, seconds);
  }

  /** The store wrapper's failure hook. */
  storeFailed(backend: Store['kind'], operation: StoreOperation): void {
    this.store.failed(backend, operation);
  }

  /** Before the source starts, so its first snapshot is counted too. */
  watchMetagraph(source: MetagraphSource): void {
    const metagraph = new MetagraphGauges(this.registry, source);
    this.closers.push(() => metagraph.close());
    this.pulled.push(metagraph);
  }

  /** Connects the other scrape-time metrics to the gateway's parts, once they exist. */
  attach(sources: MetricSources): void {
    this.models = new ModelLabels(sources.catalog, sources.metagraph);
    this.store.watch(sources.store);
    this.pulled.push(
      new MinerGauges(this.registry, {
        metagraph: sources.metagraph,
        // Read at each scrape: without NETUIDS the served subnets follow the snapshot.
        netuids: () => sources.catalog.netuids,
        health: sources.health,
        upstreamsOf: sources.upstreamsOf,
        perSubnet: sources.minersPerSubnet,
      }),
    );
  }

  /** The response cache's running totals, read at each scrape. */
  attachCache(stats: () => CacheStats): void {
    this.pulled.push(new CacheCounters(this.registry, stats));
  }

  readonly contentType = this.registry.contentType;

  /** The exposition text, with the pulled metrics read now. */
  render(): Promise<string> {
    for (const group of this.pulled) group.refresh();
    return this.registry.metrics();
  }

  close(): void {
    for (const close of this.closers) close();
  }
}
