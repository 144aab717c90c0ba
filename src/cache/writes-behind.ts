/**
 * Shared-store writes that finish behind the answer they record (Node: the
 * process outlives the request, so the answer need not wait for Redis).
 * Kept track of so that a shutdown lets them finish and a test can wait for
 * them. A failure is only logged here: the shared tier has already counted
 * it and failed open.
 */
import type { Logger } from '../log.js';

export class WritesBehind {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Lets `write` run on without anyone awaiting it. */
  add(write: Promise<void>): void {
    const tracked = write.catch((err: unknown) => {
      this.logger.warn({ err }, 'response cache: recording an answer in the shared store failed');
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Resolves once every write added so far (and any added meanwhile) is done. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
