/**
 * A chain source's health as operators see it, logged once per change: a
 * dead endpoint retried every few seconds is one log line, not one per try.
 */
import type { Logger } from '../log.js';
import type { SourceState, SourceStatus } from './snapshot.js';

export class SourceHealth {
  readonly #endpoint: string;
  readonly #logger: Logger;
  readonly #hasSnapshot: () => boolean;
  #error: string | null = null;
  #synced = false;
  #logged = '';

  constructor(endpoint: string, logger: Logger, hasSnapshot: () => boolean) {
    this.#endpoint = endpoint;
    this.#logger = logger;
    this.#hasSnapshot = hasSnapshot;
  }

  status(): SourceStatus {
    return { state: this.#state(), endpoint: this.#endpoint, error: this.#error };
  }

  /** A read, connection or decode failed; the last snapshot (if any) stays. */
  fail(error: string): void {
    this.#error = error;
    this.#report();
  }

  /** A sync succeeded. */
  ok(): void {
    this.#error = null;
    this.#synced = true;
    this.#report();
  }

  #state(): SourceState {
    if (this.#error !== null) return this.#hasSnapshot() ? 'degraded' : 'down';
    return this.#synced ? 'ok' : 'starting';
  }

  #report(): void {
    const { state, error } = this.status();
    const key = `${state}\n${error ?? ''}`;
    if (key === this.#logged) return;
    this.#logged = key;
    const fields = { endpoint: this.#endpoint, state, error };
    if (state === 'down') this.#logger.error(fields, 'chain metagraph source down: no metagraph to serve');
    else if (state === 'degraded') this.#logger.warn(fields, 'chain metagraph source degraded: serving the last good metagraph');
    else this.#logger.info(fields, `chain metagraph source ${state}`);
  }
}
