/** Where a command writes: stdout for results, stderr for messages, in JSON or as compact tables. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The API's JSON as it came (pretty-printed): what `--json` promises. */
  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value per line (a stream of events). */
  printJsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** `--json`: the value; otherwise the table. */
  result(value: unknown, table: () => string): void {
    if (this.json) this.printJson(value);
    else this.line(table());
  }

  line(text: string): void {
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A message for a person (stderr), never part of the machine output. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }
}

export type Cell = string | number | boolean | null | undefined;

export function cell(value: Cell): string {
  if (value === null || value === undefined) return '-';
  return String(value);
}

/** A compact table: a header row and left-aligned columns two spaces apart. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = [headers, ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_, column) => Math.max(...text.map((row) => (row[column] ?? '').length)));
  return text
    .map((row) =>
      row
        .map((value, column) => (column === row.length - 1 ? value : (value ?? '').padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A record as `key  value` lines. */
export function fields(entries: [string, Cell][]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}`).join('\n');
}

export const shortHash = (hash: string) => hash.slice(0, 12);

export const labelsText = (labels: Record<string, string> | null | undefined) =>
  labels && Object.keys(labels).length > 0
    ? Object.entries(labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(',')
    : '-';
