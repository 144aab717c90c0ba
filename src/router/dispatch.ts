/**
 * Sends one client request to upstreams until one gives a valid answer.
 *
 * Attempts run as a race: the first goes out at once; a failure starts the
 * next at once (failover); if the only running attempt has not produced its
 * first byte by the hedge delay, a second one is started beside it
 * (hedging), and the first valid answer wins while the other is cancelled,
 * closing its socket. A JSON answer's first byte is its headers (a long body
 * is not a stuck miner; the idle timeout bounds its silences), a stream's is
 * its first chunk with a choice (SSE headers come before any token).
 * Failover happens only before the first byte reaches the client: for a
 * stream, an attempt counts as answered once its first chunk with a choice
 * arrived, and from then on the stream belongs to that miner.
 *
 * Every attempt reports exactly one outcome to the health registry, which
 * is what moves routing weights and circuit breakers.
 */
import type { CompletionEndpoint, Provider, Upstream } from '../../providers/provider.js';
import { GatewayError, upstreamFailed } from '../errors.js';
import type { CompletionResponse } from '../openai/responses.js';
import type { RelayOutcome } from '../openai/chunk-relay.js';
import type { UpstreamTimeouts } from '../transport/http-transport.js';
import { Attempt, AttemptError, openStreamAttempt, runJsonAttempt, type AttemptContext, type OpenedAttemptStream } from './attempt.js';
import type { HealthRegistry, SubnetStats } from './health-registry.js';
import type { HedgePolicy } from './hedge-policy.js';
import type { Reliability } from './reliability.js';

export interface DispatchRequest {
  readonly provider: Provider;
  readonly endpoint: CompletionEndpoint;
  readonly body: string;
  /** Upstreams to try, in order; at most this many attempts are made. */
  readonly attempts: readonly Upstream[];
  /** This race's share of the request's MAX_ATTEMPTS (subnet-failover.ts): it starts at most `limit` attempts, counting each in `spent`. */
  readonly budget?: AttemptBudget;
  /** Aborted when the client goes away or the request's deadline passes. */
  readonly signal: AbortSignal;
  readonly timeouts: UpstreamTimeouts;
  /** Health and hedging; without it attempts run one after another and nothing is learned. */
  readonly reliability?: Reliability | null;
  /** Try miners even when their breaker is open (pinned requests, or every miner open). */
  readonly bypassBreaker?: boolean;
  /**
   * Send to the last candidate even without a probe slot when nothing else
   * went out (default true: a request is never refused for want of one).
   * False when another subnet can take the request instead.
   */
  readonly forceLastCandidate?: boolean;
}

export interface AttemptBudget { readonly limit: number; spent: number }

export interface AttemptFailure {
  readonly upstream: Upstream;
  readonly reason: string;
  /** Set when the provider mapped an HTTP error the client may see as is. */
  readonly error: GatewayError | null;
}

export interface JsonAnswer {
  readonly upstream: Upstream;
  readonly payload: CompletionResponse;
  readonly failures: readonly AttemptFailure[];
}

export interface OpenedStream {
  readonly upstream: Upstream;
  readonly failures: readonly AttemptFailure[];
  /** Raw `data:` payloads, the first of which were already validated. Ends after `[DONE]` or upstream end. */
  readonly events: AsyncGenerator<string, void, undefined>;
  /** Stops reading and closes the upstream connection. */
  cancel(): void;
  /** Reports how the relay ended, so a stream cut mid-way counts against its miner. */
  settle(outcome: RelayOutcome): void;
}

/** Abort reasons of attempts the gateway cancelled itself (seen only in their own abort paths). */
const HEDGE_LOST = new Error('another miner answered first');
const RACE_OVER = new Error('the request no longer needs this attempt');

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function allFailed(request: DispatchRequest, failures: readonly AttemptFailure[]): GatewayError {
  if (request.signal.aborted) {
    const why = request.signal.reason instanceof Error ? request.signal.reason.message : 'the request was aborted';
    return new GatewayError(504, `${why} before any miner answered`, 'server_error', 'deadline_exceeded');
  }
  if (failures.length === 0) {
    return new GatewayError(503, 'every upstream of this subnet is held back by its circuit breaker', 'server_error', 'breaker_open');
  }
  // A non-retryable mapped error (e.g. a subnet API's 402) is the answer itself.
  const final = failures.findLast((f) => f.error !== null)?.error;
  if (final && failures.every((f) => f.error !== null)) return final;
  const n = failures.length;
  const detail = failures.map((f) => f.reason).join('; ');
  // A subnet's own API is not a miner the gateway picked: say what it is.
  const noun = failures.length > 0 && failures.every((f) => f.upstream.uid === null) ? 'subnet API' : 'miner';
  return upstreamFailed(`no ${noun} answered: tried ${n} ${noun}${n === 1 ? '' : 's'}: ${detail}`, 'all_miners_failed');
}

interface Won<T> {
  readonly attempt: Attempt;
  readonly value: T;
  readonly failures: readonly AttemptFailure[];
}

type RunAttempt<T> = (ctx: AttemptContext, attempt: Attempt) => Promise<T>;
/** Releases an answer that arrived after the race was already decided. */
type DropAnswer<T> = (attempt: Attempt, value: T) => void;

class AttemptRace<T> {
  private readonly failures: AttemptFailure[] = [];
  private readonly running: Attempt[] = [];
  private readonly health: HealthRegistry | null;
  private readonly hedge: HedgePolicy | null;
  private readonly stats: SubnetStats | null;
  private next = 0;
  private launched = 0;
  private settled = false;
  private winner: Attempt | null = null;
  private hedgeTimer: ReturnType<typeof setTimeout> | undefined;
  private resolve: (won: Won<T>) => void = () => {};
  private reject: (err: unknown) => void = () => {};

  constructor(
    private readonly request: DispatchRequest,
    private readonly stream: boolean,
    private readonly run: RunAttempt<T>,
    private readonly drop: DropAnswer<T>,
  ) {
    const reliability = request.reliability ?? null;
    this.health = reliability?.health ?? null;
    this.hedge = reliability && reliability.hedge.enabled(stream) ? reliability.hedge : null;
    const netuid = request.attempts[0]?.netuid;
    this.stats = this.health && netuid !== undefined ? this.health.subnet(netuid) : null;
  }

  start(): Promise<Won<T>> {
    return new Promise<Won<T>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const { signal } = this.request;
      if (signal.aborted) return reject(allFailed(this.request, this.failures));
      // Never removed: the signal belongs to this request alone and dies with it.
      signal.addEventListener('abort', this.onAbort, { once: true });
      if (this.hedge && this.stats) this.hedge.earn(this.stats);
      if (!this.launchNext()) return this.finishFailed();
      this.armHedge();
    });
  }

  private readonly onAbort = () => {
    const reason: unknown = this.request.signal.reason;
    for (const attempt of this.running) attempt.cancel(reason);
    // A stream that already won is read by the relay; aborting makes its read fail with the reason.
    this.winner?.controller.abort(reason);
  };

  private readonly onHedgeTimer = () => {
    this.hedgeTimer = undefined;
    if (this.settled || this.running.length !== 1 || !this.hedge || !this.stats) return;
    if (this.firstByteMs(this.running[0] as Attempt) === null && this.hedge.spend(this.stats)) this.launchNext();
  };

  /** A JSON attempt's time to its reply's headers, or null before them; always null for a stream (its first chunk ends the race). */
  private firstByteMs(attempt: Attempt): number | null {
    return this.stream ? null : attempt.firstByteMs;
  }

  private launchNext(): boolean {
    const { attempts, bypassBreaker, forceLastCandidate, budget } = this.request;
    while (this.next < attempts.length && (!budget || budget.spent < budget.limit)) {
      const upstream = attempts[this.next++] as Upstream;
      // The last candidate goes out regardless if nothing else could: a request is never refused for want of a probe slot.
      const force = bypassBreaker === true || (forceLastCandidate !== false && this.launched === 0 && this.next === attempts.length);
      const generation = this.health ? this.health.begin(upstream, force) : 0;
      if (generation < 0) continue;
      const attempt = new Attempt(upstream, generation);
      this.running.push(attempt);
      this.launched++;
      if (budget) budget.spent++;
      this.run(this.request, attempt).then(
        (value) => this.onAnswer(attempt, value),
        (err: unknown) => this.onError(attempt, err),
      );
      return true;
    }
    return false;
  }

  /** Arms the hedge for the one running attempt, if hedging applies and a candidate is left. */
  private armHedge(): void {
    if (!this.hedge || !this.stats || this.hedgeTimer !== undefined || this.running.length !== 1) return;
    const { attempts, budget } = this.request;
    if (this.next >= attempts.length || (budget && budget.spent >= budget.limit)) return;
    const first = this.running[0] as Attempt;
    if (this.firstByteMs(first) !== null) return;
    const wait = this.hedge.delayMs(this.stats, this.stream) - (performance.now() - first.startedAt);
    this.hedgeTimer = setTimeout(this.onHedgeTimer, wait > 0 ? wait : 0);
  }

  private remove(attempt: Attempt): void {
    const i = this.running.indexOf(attempt);
    if (i >= 0) this.running.splice(i, 1);
  }

  private onAnswer(attempt: Attempt, value: T): void {
    this.remove(attempt);
    if (this.settled) {
      // Answered in the same instant as the winner (or after a final error): not needed.
      this.drop(attempt, value);
      this.health?.neutral(attempt.upstream, attempt.generation);
      return;
    }
    this.settled = true;
    this.clearHedge();
    if (this.health) {
      const elapsed = performance.now() - attempt.startedAt;
      // A stream's first byte is this first chunk; a JSON answer's came with its headers.
      this.health.answered(attempt.upstream, this.stream, this.firstByteMs(attempt) ?? elapsed, elapsed);
      // A stream's verdict waits for its end (settle); a JSON answer is complete now.
      if (!this.stream) this.health.succeeded(attempt.upstream, attempt.generation, elapsed);
    }
    for (const other of this.running) {
      other.lost = true;
      other.cancel(HEDGE_LOST);
    }
    this.winner = attempt;
    this.resolve({ attempt, value, failures: this.failures });
  }

  private onError(attempt: Attempt, err: unknown): void {
    this.remove(attempt);
    attempt.reply?.discard();
    const { upstream, generation } = attempt;
    if (attempt.lost) {
      // A JSON loser whose headers came (the other body finished first) has a known first byte.
      const firstByteMs = this.firstByteMs(attempt);
      const ranMs = performance.now() - attempt.startedAt;
      this.health?.lostHedge(upstream, generation, firstByteMs ?? ranMs, firstByteMs !== null, ranMs);
      return;
    }
    if (this.settled) {
      // Cancelled because the race ended on a final error: says nothing about this miner.
      this.health?.neutral(upstream, generation);
      return;
    }
    const aborted = this.request.signal.aborted;
    const mapped = err instanceof AttemptError ? err.error : null;
    if (this.health) {
      const countsAgainst = !aborted && !(err instanceof AttemptError && err.verdict === 'neutral');
      if (countsAgainst) this.health.failed(upstream, generation, false);
      else this.health.neutral(upstream, generation);
    }
    this.failures.push({ upstream, reason: describe(err), error: mapped });
    if (mapped) return this.finishFailed();
    if (!aborted && this.launchNext()) return this.armHedge();
    if (this.running.length === 0) return this.finishFailed();
    this.armHedge();
  }

  private finishFailed(): void {
    this.settled = true;
    this.clearHedge();
    for (const other of this.running) other.cancel(RACE_OVER);
    this.reject(allFailed(this.request, this.failures));
  }

  private clearHedge(): void {
    if (this.hedgeTimer === undefined) return;
    clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
  }
}

const dropNothing = () => {};

export async function dispatchJson(request: DispatchRequest): Promise<JsonAnswer> {
  const won = await new AttemptRace(request, false, runJsonAttempt, dropNothing).start();
  return { upstream: won.attempt.upstream, payload: won.value, failures: won.failures };
}

function dropStream(attempt: Attempt, opened: OpenedAttemptStream): void {
  void opened.rest.return(undefined);
  attempt.reply?.discard();
}

/** The winner's events: what was read while opening, then the rest, with an abort reported as its reason. */
async function* relayEvents(opened: OpenedAttemptStream, signal: AbortSignal): AsyncGenerator<string, void, undefined> {
  yield* opened.prelude;
  try {
    yield* opened.rest;
  } catch (err) {
    // ClientDisconnected or DeadlineExceeded say more than the transport's "aborted".
    throw signal.aborted ? signal.reason : err;
  }
}

export async function dispatchStream(request: DispatchRequest): Promise<OpenedStream> {
  const { attempt, value, failures } = await new AttemptRace(request, true, openStreamAttempt, dropStream).start();
  const health = request.reliability?.health ?? null;
  return {
    upstream: attempt.upstream,
    failures,
    events: relayEvents(value, request.signal),
    cancel: () => attempt.cancel(RACE_OVER),
    settle(outcome) {
      if (!health) return;
      const { upstream, generation } = attempt;
      if (outcome.completed) health.succeeded(upstream, generation, performance.now() - attempt.startedAt);
      // The client leaving, or a generation longer than the request's deadline, is not the miner's fault.
      else if (outcome.clientAborted || request.signal.aborted) health.neutral(upstream, generation);
      // Bytes already reached the client: the one failure that cannot be hidden, so the breaker opens now.
      else health.failed(upstream, generation, true);
    },
  };
}
