import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import * as path from 'node:path';
import { ROOT } from './service';

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const ms = (millis: number) => `${millis.toFixed(millis < 10 ? 2 : 0)} ms`;

export function machine() {
  return { node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory: mb(totalmem()), postgres: process.env.POSTGRES_HOST ? `external (${process.env.POSTGRES_HOST})` : 'embedded' };
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n${line(columns)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((column) => String(row[column]))));
}

/** Writes the results as JSON under bench/results/ (git-ignored); returns the file. */
export function saveResults(name: string, results: unknown): string {
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ machine: machine(), date: new Date().toISOString(), results }, null, 2));
  return file;
}
