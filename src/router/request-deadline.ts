/**
 * One abort signal per request that fires when the client goes away or the
 * request's total time runs out. A single controller and timer is cheaper
 * on the hot path than AbortSignal.any over AbortSignal.timeout. The abort
 * reason says which of the two happened, so a miner is not blamed for a
 * client that left, and a cut stream can say why it was cut.
 *
 * The deadline is fixed when the request arrives (REQUEST_TIMEOUT_MS from
 * then): time spent before the upstream call, waiting on an identical
 * request in flight (src/cache/flight.ts, replica-claim.ts), comes out of
 * it, so the call gets what is left, not a fresh REQUEST_TIMEOUT_MS.
 */
export interface RequestDeadline {
  readonly signal: AbortSignal;
  /** Clears the timer and listener once the request is done. */
  release(): void;
}

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

export class ClientDisconnected extends Error {
  override readonly name = 'ClientDisconnected';
}

/** The reason a request whose REQUEST_TIMEOUT_MS (`totalMs`) ran out is aborted with. */
export const deadlineExceeded = (totalMs: number) => new DeadlineExceeded(`the request exceeded its ${totalMs} ms deadline`);

/**
 * A request's deadline, fixed when it arrived: REQUEST_TIMEOUT_MS (`totalMs`)
 * from then. Whatever the request waits on is bounded by what is left.
 */
export class FixedDeadline {
  /** performance.now() at which the request must have been answered. */
  readonly at: number;

  constructor(
    readonly totalMs: number,
    arrivedAt = performance.now(),
    /** Kept back from a wait on another replica's answer for the request's own call (FIRST_BYTE_TIMEOUT_MS). */
    private readonly ownCallReserveMs: number,
  ) {
    this.at = arrivedAt + totalMs;
  }

  /** Milliseconds left (0 or less once it passed). */
  leftMs(): number {
    return this.at - performance.now();
  }

  /**
   * The longest the request may wait for another replica's answer: what is
   * left, less a reserve (at most half of it) for calling a miner itself
   * when that answer does not come, so the wait is bounded and the fallback
   * call still fits in the deadline.
   */
  replicaWaitMs(): number {
    const left = Math.max(0, this.leftMs());
    return left - Math.min(this.ownCallReserveMs, left / 2);
  }

  /** The abort reason once it passed. */
  exceeded(): DeadlineExceeded {
    return deadlineExceeded(this.totalMs);
  }

  /** A signal for what is left of it (already aborted when nothing is), also aborted when `clientSignal` is. */
  start(clientSignal: AbortSignal): RequestDeadline {
    return requestDeadline(clientSignal, this.totalMs, this.leftMs());
  }
}

/**
 * `leftMs` (default `totalMs`) is what remains of the request's deadline; at
 * 0 or below the signal is aborted already, so nothing is sent.
 */
export function requestDeadline(clientSignal: AbortSignal, totalMs: number, leftMs = totalMs): RequestDeadline {
  const controller = new AbortController();
  const onClientGone = () => controller.abort(new ClientDisconnected('the client closed the connection', { cause: clientSignal.reason }));
  if (clientSignal.aborted) onClientGone();
  else clientSignal.addEventListener('abort', onClientGone, { once: true });
  const expire = () => controller.abort(deadlineExceeded(totalMs));
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (leftMs > 0) timer = setTimeout(expire, leftMs);
  else expire();
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientGone);
    },
  };
}
