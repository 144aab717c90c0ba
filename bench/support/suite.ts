/** What every benchmark suite returns; bench/run.ts prints it and writes it as JSON. */

export type Cell = string | number | null;

export interface BenchTable {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Readonly<Record<string, Cell>>>;
  /** Targets, what was measured against what, caveats. */
  readonly notes: readonly string[];
}

export interface BenchSuite {
  /** `npm run bench -- <name>` runs only this suite. */
  readonly name: string;
  readonly title: string;
  run(): Promise<BenchTable>;
}
