/**
 * Per-operation cost of synchronous functions, side by side: the cases run
 * round-robin in ROUNDS batches (iterations split evenly) and each reports
 * its median batch, so a noisy neighbour on a shared 2-core box skews one
 * batch rather than one method. No Node APIs: the workerd benchmarks run it
 * inside a Worker too.
 */

export interface MeasuredCase {
  readonly method: string;
  readonly op: () => unknown;
}

export interface MeasuredRow {
  method: string;
  iterations: number;
  usPerOp: number;
  opsPerSec: number;
}

const ROUNDS = 5;

export function measure(cases: readonly MeasuredCase[], iterations: number, nowMs: () => number = () => performance.now()): MeasuredRow[] {
  const perRound = Math.max(1, Math.floor(iterations / ROUNDS));
  const samples = cases.map(() => [] as number[]);
  for (const c of cases) for (let i = 0; i < Math.min(200, perRound); i++) c.op(); // warm-up / JIT
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach((c, k) => {
      const start = nowMs();
      for (let i = 0; i < perRound; i++) c.op();
      samples[k]?.push(((nowMs() - start) * 1_000) / perRound);
    });
  }
  return cases.map((c, k) => {
    const sorted = [...(samples[k] ?? [])].sort((a, b) => a - b);
    const usPerOp = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    return { method: c.method, iterations: perRound * ROUNDS, usPerOp: Math.round(usPerOp * 10) / 10, opsPerSec: Math.round(1e6 / usPerOp) };
  });
}
