import type { EntityManager } from 'typeorm';

/** Anything that runs SQL: prepared statements on the pool, the DataSource's manager, or a transaction's. */
export type Queryable = Pick<EntityManager, 'query'>;

/** Escapes LIKE wildcards so user text matches literally. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Collects WHERE conditions and their positional parameters in step. */
export class SqlConditions {
  readonly conditions: string[] = [];
  readonly params: unknown[] = [];

  /** Adds `sql`, where each `?` is replaced by the next positional parameter. */
  add(sql: string, ...values: unknown[]): this {
    let index = 0;
    this.conditions.push(sql.replace(/\?/g, () => `$${this.params.length + ++index}`));
    this.params.push(...values);
    return this;
  }

  addIf(condition: boolean, sql: string, ...values: unknown[]): this {
    return condition ? this.add(sql, ...values) : this;
  }

  /**
   * A parameter outside `add` (e.g. LIMIT, or one of a condition built with its own placeholders):
   * returns its placeholder. Add such a condition before any further `add` call.
   */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  where(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}

/**
 * Builds `SET col = $n, …` from the fields present in `changes`, mapping each to its column through
 * `columns` (a fixed allow-list, never client keys). Returns undefined when nothing changes.
 */
export function setClause(
  changes: Record<string, unknown>,
  columns: Record<string, string>,
  firstParam: number,
): { sql: string; params: unknown[] } | undefined {
  const assignments: string[] = [];
  const params: unknown[] = [];
  for (const [field, column] of Object.entries(columns)) {
    if (changes[field] === undefined) continue;
    params.push(changes[field]);
    assignments.push(`${column} = $${firstParam + params.length - 1}`);
  }
  return assignments.length > 0 ? { sql: assignments.join(', '), params } : undefined;
}
