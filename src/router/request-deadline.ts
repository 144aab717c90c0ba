/**
 * One abort signal per request that fires when the client goes away or the
 * request's total time runs out. A single controller and timer is cheaper
 * on the hot path than AbortSignal.any over AbortSignal.timeout.
 */
export interface RequestDeadline {
  readonly signal: AbortSignal;
  /** Clears the timer and listener once the request is done. */
  release(): void;
}

export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

export function requestDeadline(clientSignal: AbortSignal, totalMs: number): RequestDeadline {
  const controller = new AbortController();
  const onClientGone = () => controller.abort(clientSignal.reason);
  if (clientSignal.aborted) controller.abort(clientSignal.reason);
  else clientSignal.addEventListener('abort', onClientGone, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`request exceeded ${totalMs} ms`)), totalMs);
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientGone);
    },
  };
}
