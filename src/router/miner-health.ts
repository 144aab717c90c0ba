/**
 * What the gateway has learned about one miner from its own traffic: EWMA
 * latency (to the whole answer) and time to first byte (a JSON answer's
 * response headers, a stream's first chunk), the error rate over its last outcomes,
 * and its circuit breaker. Each update is O(1) and allocation-free; the
 * routing factor it yields is cached so the router only reads a number.
 */
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker.js';

/** Outcomes remembered for the error rate. */
export const OUTCOME_WINDOW = 20;
/** Weight of a new sample in the EWMAs: about the last ten samples count. */
const EWMA_ALPHA = 0.2;
/**
 * Latency differences below this are noise, not a reason to move traffic: a
 * few ms of loopback jitter must not reshuffle miners, while a miner taking
 * seconds longer than its peers must lose share.
 */
const LATENCY_SLACK_MS = 250;
/** A miner at up to this multiple of the subnet's typical latency keeps its full weight. */
const LATENCY_TOLERANCE = 2;
/** Nobody drops to exactly zero: a recovering miner must still be drawn now and then. */
const MIN_FACTOR = 0.02;
/** Error-rate prior: as if every miner had these successes before its first outcome, so one failure is not 100 %. */
const PRIOR_SUCCESSES = 2;

export interface MinerHealthView {
  readonly state: BreakerState;
  readonly routing_factor: number;
  readonly ewma_latency_ms: number | null;
  readonly ewma_ttfb_ms: number | null;
  readonly error_rate: number;
  readonly window: number;
  readonly consecutive_failures: number;
  readonly attempts: number;
  readonly failures: number;
  /** Attempts cancelled because another miner answered first while this one had not. */
  readonly hedges_lost: number;
  readonly opened_at: string | null;
  readonly retry_at: string | null;
}

const round = (ms: number) => (Number.isNaN(ms) ? null : Math.round(ms * 10) / 10);
const ewma = (current: number, sample: number) => (Number.isNaN(current) ? sample : current + EWMA_ALPHA * (sample - current));

export class MinerHealth {
  readonly breaker: CircuitBreaker;
  ewmaLatencyMs = Number.NaN;
  ewmaTtfbMs = Number.NaN;
  /**
   * Time until the client had something it could use: a JSON answer's whole
   * body, a stream's first chunk. The routing factor is taken from this, not
   * from the first byte: a miner that sends its headers at once and its JSON
   * body late must not look fast to the router.
   */
  ewmaServedMs = Number.NaN;
  /** Routing weight multiplier in (0, 1]: success × latency. */
  factor = 1;
  /** Attempts sent (counted when they start). */
  attempts = 0;
  failures = 0;
  hedgesLost = 0;
  private readonly outcomes = new Uint8Array(OUTCOME_WINDOW);
  private outcomeCount = 0;
  private outcomePos = 0;
  private windowFailures = 0;

  constructor(breakerOptions: BreakerOptions) {
    this.breaker = new CircuitBreaker(breakerOptions);
  }

  get errorRate(): number {
    return this.outcomeCount === 0 ? 0 : this.windowFailures / this.outcomeCount;
  }

  /**
   * A valid answer won: its first byte came after `ttfbMs` (a JSON answer's
   * headers, a stream's first chunk) and it was usable after `servedMs` (the
   * whole JSON body, the stream's first chunk); `typicalServedMs` is the subnet's.
   */
  recordAnswer(ttfbMs: number, servedMs: number, typicalServedMs: number): void {
    this.ewmaTtfbMs = ewma(this.ewmaTtfbMs, ttfbMs);
    this.ewmaServedMs = ewma(this.ewmaServedMs, servedMs);
    this.refreshFactor(typicalServedMs);
  }

  /** The whole answer arrived after `latencyMs` (a JSON body, or a stream's end). */
  recordSuccess(generation: number, latencyMs: number, typicalServedMs: number): void {
    this.ewmaLatencyMs = ewma(this.ewmaLatencyMs, latencyMs);
    const wasOpen = this.breaker.isOpen;
    this.breaker.onSuccess(generation);
    // A recovery starts from a clean slate: failures from before the breaker
    // opened must not keep a miner that passed its probe starved.
    if (wasOpen && !this.breaker.isOpen) this.clearOutcomes();
    this.pushOutcome(0);
    this.refreshFactor(typicalServedMs);
  }

  /** Returns true when this failure opened the breaker. */
  recordFailure(generation: number, now: number, tripNow: boolean, typicalServedMs: number): boolean {
    this.failures++;
    this.pushOutcome(1);
    const opened = this.breaker.onFailure(generation, now, this.errorRate, this.outcomeCount, tripNow);
    this.refreshFactor(typicalServedMs);
    return opened;
  }

  /**
   * The attempt lost a hedge race without answering: it was slower than the
   * subnet's tail. `ttfbMs` is its time to first byte when `exact` (a JSON
   * reply whose headers came but whose body lost), else only a lower bound
   * of it, recorded only if it raises the EWMA; `ranMs`, how long it ran, is
   * a lower bound of when it would have been usable, recorded the same way.
   * Three such losses in a row
   * count as failures for the breaker (a miner that is never faster than
   * another one's p95 only burns work), not for the error rate.
   */
  recordHedgeLoss(generation: number, ttfbMs: number, exact: boolean, ranMs: number, now: number, typicalServedMs: number): void {
    this.hedgesLost++;
    if (exact || !(ttfbMs < this.ewmaTtfbMs)) this.ewmaTtfbMs = ewma(this.ewmaTtfbMs, ttfbMs);
    if (!(ranMs < this.ewmaServedMs)) this.ewmaServedMs = ewma(this.ewmaServedMs, ranMs);
    this.refreshFactor(typicalServedMs);
    this.breaker.onFailure(generation, now, this.errorRate, 0, false);
  }

  view(now: number): MinerHealthView {
    const window = this.breaker.openWindow;
    const state = this.breaker.state(now);
    return {
      state,
      // What the router multiplies the rank weight by right now: nothing while open.
      routing_factor: state === 'open' ? 0 : Math.round(this.factor * 1000) / 1000,
      ewma_latency_ms: round(this.ewmaLatencyMs),
      ewma_ttfb_ms: round(this.ewmaTtfbMs),
      error_rate: Math.round(this.errorRate * 1000) / 1000,
      window: this.outcomeCount,
      consecutive_failures: this.breaker.consecutiveFailures,
      attempts: this.attempts,
      failures: this.failures,
      hedges_lost: this.hedgesLost,
      opened_at: window ? new Date(window.openedAt).toISOString() : null,
      retry_at: window ? new Date(window.retryAt).toISOString() : null,
    };
  }

  private pushOutcome(failed: 0 | 1): void {
    if (this.outcomeCount === OUTCOME_WINDOW) this.windowFailures -= this.outcomes[this.outcomePos]!;
    else this.outcomeCount++;
    this.outcomes[this.outcomePos] = failed;
    this.windowFailures += failed;
    this.outcomePos = (this.outcomePos + 1) % OUTCOME_WINDOW;
  }

  private clearOutcomes(): void {
    this.outcomes.fill(0);
    this.outcomeCount = 0;
    this.outcomePos = 0;
    this.windowFailures = 0;
  }

  private refreshFactor(typicalServedMs: number): void {
    // While the breaker is open it alone decides whether the miner is tried; a
    // half-open miner is then drawn at its full rank weight so its probe comes soon.
    const rate = this.breaker.isOpen ? 0 : this.windowFailures / (this.outcomeCount + PRIOR_SUCCESSES);
    const success = (1 - rate) * (1 - rate);
    let latency = 1;
    if (!Number.isNaN(this.ewmaServedMs) && !Number.isNaN(typicalServedMs)) {
      latency = Math.min(1, (LATENCY_TOLERANCE * typicalServedMs + LATENCY_SLACK_MS) / (this.ewmaServedMs + LATENCY_SLACK_MS));
    }
    this.factor = Math.max(MIN_FACTOR, success * latency);
  }
}
