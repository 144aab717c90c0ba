/**
 * One miner's circuit breaker. Closed: traffic flows. Open: the miner is not
 * tried until its cool-down ends. Half-open (an open breaker whose cool-down
 * has ended): one probe at a time; its success closes the breaker, its
 * failure opens it again for twice as long (capped), so a miner that stays
 * broken costs one probe per max cool-down, not a steady trickle of errors.
 *
 * A forced attempt (a pinned request, or the last candidate when every one
 * is held back) is never refused, and it says as much about the miner as a
 * probe does: its success closes the breaker, its failure opens it again
 * with the doubled cool-down. Otherwise a dead miner that is only ever
 * reached by forced attempts would sit half-open for good.
 *
 * Results are matched to the breaker period they started in by a generation
 * number: a slow answer that began before the breaker opened must not close
 * it, and one that began before a recovery must not re-open it.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** Error rate over the miner's outcome window that opens it… */
  readonly errorRateThreshold: number;
  /** …once the window holds at least this many outcomes. */
  readonly minSamples: number;
  readonly cooldownMs: number;
  readonly maxCooldownMs: number;
  /** A probe that never reported (it cannot outlive its request) is given up after this long. */
  readonly probeTimeoutMs: number;
}

/** Successes in a row after which past trips are forgiven and the cool-down starts small again. */
const FORGIVE_AFTER_SUCCESSES = 20;

export class CircuitBreaker {
  private open = false;
  private openedAt = 0;
  private retryAt = 0;
  /** Trips without a proven recovery since: drives the exponential cool-down. */
  private trips = 0;
  private probeStartedAt = 0;
  private successesInRow = 0;
  consecutiveFailures = 0;
  /** Bumped on every open and close. */
  generation = 0;

  constructor(private readonly options: BreakerOptions) {}

  /** Open or half-open: traffic is held back. */
  get isOpen(): boolean {
    return this.open;
  }

  state(now: number): BreakerState {
    if (!this.open) return 'closed';
    return now >= this.retryAt ? 'half_open' : 'open';
  }

  /** When the breaker last opened and when it may be probed (ms since epoch), or null when closed. */
  get openWindow(): { readonly openedAt: number; readonly retryAt: number } | null {
    return this.open ? { openedAt: this.openedAt, retryAt: this.retryAt } : null;
  }

  /**
   * Whether a new request may plan to use this miner. A half-open miner is
   * offered only to requests whose failure stays invisible (non-stream ones,
   * which fail over) until it has waited a second cool-down without a probe:
   * a failed stream probe after its first byte would be a client-visible error.
   */
  admits(now: number, invisibleFailure: boolean): boolean {
    if (!this.open) return true;
    if (now < this.retryAt) return false;
    if (this.probeInFlight(now)) return false;
    return invisibleFailure || now >= this.retryAt + this.options.cooldownMs;
  }

  /**
   * Claims the right to send one attempt now. Returns the generation to
   * report the result with, or -1 when the miner must be skipped. `force`
   * (pinned requests, or every miner open) sends regardless; at half-open it
   * takes the probe slot if free, so no other probe runs beside it.
   */
  begin(now: number, force: boolean): number {
    if (!this.open) return this.generation;
    if (now >= this.retryAt && !this.probeInFlight(now)) {
      this.probeStartedAt = now;
      return this.generation;
    }
    return force ? this.generation : -1;
  }

  onSuccess(generation: number): void {
    if (generation !== this.generation) return;
    this.consecutiveFailures = 0;
    if (++this.successesInRow >= FORGIVE_AFTER_SUCCESSES) this.trips = 0;
    // A success while open can only be a probe or a forced attempt: the miner works again.
    if (this.open) this.close();
  }

  /**
   * `tripNow`: a failure the client saw (a stream cut after its first byte)
   * opens the breaker at once. Returns true when this failure opened it.
   */
  onFailure(generation: number, now: number, errorRate: number, samples: number, tripNow: boolean): boolean {
    if (generation !== this.generation) return false;
    this.successesInRow = 0;
    if (this.open) {
      // While open, only a probe or a forced attempt starts in this generation (the
      // rest began before the breaker opened): either's failure opens it again, for longer.
      this.trip(now);
      return true;
    }
    this.consecutiveFailures++;
    const tooMany = this.consecutiveFailures >= this.options.failureThreshold;
    const tooOften = samples >= this.options.minSamples && errorRate >= this.options.errorRateThreshold;
    if (!(tripNow || tooMany || tooOften)) return false;
    this.trip(now);
    return true;
  }

  /** The attempt ended without saying anything about the miner (client gone, hedge lost after it answered…). */
  onNeutral(generation: number): void {
    if (generation === this.generation && this.open) this.probeStartedAt = 0;
  }

  private probeInFlight(now: number): boolean {
    return this.probeStartedAt !== 0 && now - this.probeStartedAt < this.options.probeTimeoutMs;
  }

  private trip(now: number): void {
    const base = Math.min(this.options.maxCooldownMs, this.options.cooldownMs * 2 ** this.trips);
    // ±10 % jitter so miners that failed together (a network blip) are not all probed in the same instant.
    const cooldown = base * (0.9 + Math.random() * 0.2);
    this.open = true;
    this.openedAt = now;
    this.retryAt = now + cooldown;
    this.trips++;
    this.probeStartedAt = 0;
    this.generation++;
  }

  private close(): void {
    this.open = false;
    this.consecutiveFailures = 0;
    this.probeStartedAt = 0;
    this.generation++;
  }
}
