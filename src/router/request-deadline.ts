/**
 * One abort signal per request that fires when the client goes away or the
 * request's total time runs out. A single controller and timer is cheaper
 * on the hot path than AbortSignal.any over AbortSignal.timeout. The abort
 * reason says which of the two happened, so a miner is not blamed for a
 * client that left, and a cut stream can say why it was cut.
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

export function requestDeadline(clientSignal: AbortSignal, totalMs: number): RequestDeadline {
  const controller = new AbortController();
  const onClientGone = () => controller.abort(new ClientDisconnected('the client closed the connection', { cause: clientSignal.reason }));
  if (clientSignal.aborted) onClientGone();
  else clientSignal.addEventListener('abort', onClientGone, { once: true });
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`the request exceeded its ${totalMs} ms deadline`)), totalMs);
  return {
    signal: controller.signal,
    release() {
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientGone);
    },
  };
}
