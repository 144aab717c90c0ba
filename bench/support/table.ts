/** Prints a bench table as aligned text and writes it as JSON under bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BenchSuite, BenchTable, Cell } from './suite.js';

const RESULTS = new URL('../results/', import.meta.url);

function format(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '-';
  if (typeof cell === 'number') return Number.isInteger(cell) ? String(cell) : cell.toFixed(Math.abs(cell) < 10 ? 3 : 1);
  return cell;
}

export function renderTable(table: BenchTable): string {
  const cells = table.rows.map((row) => table.columns.map((c) => format(row[c])));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padStart(widths[i] ?? 0)).join('  ');
  return [line(table.columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function writeResult(suite: BenchSuite, table: BenchTable): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = new URL(`${suite.name}.json`, RESULTS);
  const body = { suite: suite.name, title: suite.title, node: process.version, measuredAt: new Date().toISOString(), ...table };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file.pathname;
}
