/**
 * Runs the compare checks in one worker thread (src/compare/check-worker.mjs)
 * with a time limit per job: a job that outlives it (a regex that backtracks
 * forever, a schema that takes ages) gets its worker terminated and a fresh
 * one started for the next job, so no caller-supplied pattern can stall the
 * gateway. Jobs run one at a time; each is a handful of checks over a handful
 * of answers. node:worker_threads is loaded on the first job, so runtimes
 * without it (Workers) still build the gateway; there, checks fail with the reason.
 */
import type { Worker } from 'node:worker_threads';
import type { Check } from './compare-request.js';

export interface CheckOutcome {
  readonly passed: boolean;
  /** Why it failed (null when it passed). */
  readonly detail: string | null;
}

type Job = { kind: 'compile'; schemas: unknown[] } | { kind: 'run'; checks: readonly Check[]; answers: readonly string[] };

export class CheckTimeout extends Error {
  override readonly name = 'CheckTimeout';
}

export class CheckRunner {
  private worker: Worker | null = null;
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly timeoutMs = 1_000) {}

  /** For each schema, null when Ajv compiles it, else Ajv's message. */
  compileSchemas(schemas: unknown[]): Promise<Array<string | null>> {
    return this.enqueue({ kind: 'compile', schemas });
  }

  /** outcomes[answer][check]; rejects with CheckTimeout when the job ran out of time. */
  run(checks: readonly Check[], answers: readonly string[]): Promise<CheckOutcome[][]> {
    return this.enqueue({ kind: 'run', checks, answers });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private enqueue<T>(job: Job): Promise<T> {
    const result = this.queue.then(() => this.execute<T>(job));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async spawn(): Promise<Worker> {
    const { Worker } = await import('node:worker_threads');
    // Resolved here, not at load: in a Worker bundle import.meta.url is no base URL.
    const worker = new Worker(new URL('./check-worker.mjs', import.meta.url));
    // Idle between comparisons: it must not keep the process alive.
    worker.unref();
    worker.on('error', () => {
      if (this.worker === worker) this.worker = null;
    });
    return worker;
  }

  private async execute<T>(job: Job): Promise<T> {
    if (this.closed) throw new Error('the check runner is closed');
    const worker = (this.worker ??= await this.spawn());
    if (this.closed) {
      // Closed while the worker was starting.
      this.worker = null;
      await worker.terminate();
      throw new Error('the check runner is closed');
    }
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      const onMessage = (reply: { id: number; ok: boolean; result?: T; error?: string }) => {
        if (reply.id !== id) return;
        done();
        if (reply.ok) resolve(reply.result as T);
        else reject(new Error(reply.error ?? 'check failed'));
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        done();
        if (this.worker === worker) this.worker = null;
        void worker.terminate();
        reject(new CheckTimeout(`the checks took longer than ${this.timeoutMs} ms and were stopped`));
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, ...job });
    });
  }
}
