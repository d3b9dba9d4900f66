import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/database.config';
import { PreparedQuery, type QueryResult } from './prepared-query';
import type { Queryable } from './sql';

interface PgPool {
  query(query: PreparedQuery): Promise<QueryResult>;
}

/** Beyond this many distinct texts, further ones run unnamed (each named one is kept by every connection). */
export const MAX_PREPARED_STATEMENTS = 500;

/**
 * Separate budgets for statement families whose shapes a client chooses (resolve: mode × which
 * constraints are present), so that a client varying its query cannot use up the names the rest of the
 * service needs. Past its budget a family's new shapes run unnamed (correct, only planned every time).
 */
export const STATEMENT_BUDGETS = { resolve: 64 } as const;
export type StatementFamily = keyof typeof STATEMENT_BUDGETS;

/**
 * Queries outside transactions run as named prepared statements on the pool behind TypeORM: each
 * connection plans a statement once and then only executes it. On the registry's hot reads planning
 * cost as much as running (named statements gave ~3x the throughput of unnamed ones on the resolve
 * join). The name is derived from the text, so any query becomes a prepared one. Values are always
 * parameters, so the texts are the query shapes (a list's filters and sort): the common ones are far
 * fewer than the cap, and rare combinations past it still work, unprepared. Results have the shape
 * TypeORM's `query` gives (rows; `[rows, count]` for UPDATE and DELETE), so repositories take either.
 * Each execution is a {@link PreparedQuery}: a connection describes a statement once, not every time.
 *
 * With DB_PREPARED_STATEMENTS=false every query runs unnamed (parse, bind and execute in one round
 * trip). That is what PgBouncer before 1.21 needs in transaction pooling: a statement prepared on one
 * server session is unknown to the next one the pooler hands the client.
 */
@Injectable()
export class PreparedStatements implements Queryable {
  private readonly names = new Map<string, string>();
  private readonly familySizes = new Map<StatementFamily, number>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: ConfigType<typeof databaseConfig>,
  ) {}

  private nameOf(text: string, family?: StatementFamily): string | undefined {
    if (!this.config.preparedStatements) return undefined;
    let name = this.names.get(text);
    if (name) return name;
    const familySize = family === undefined ? 0 : (this.familySizes.get(family) ?? 0);
    if (this.names.size >= MAX_PREPARED_STATEMENTS || (family !== undefined && familySize >= STATEMENT_BUDGETS[family])) return undefined;
    name = `q_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    this.names.set(text, name);
    if (family !== undefined) this.familySizes.set(family, familySize + 1);
    return name;
  }

  /** `family`: the text is one of a family of shapes a client chooses, named only within its budget. */
  async query<T = any>(text: string, values: unknown[] = [], family?: StatementFamily): Promise<T> {
    const pool = (this.dataSource.driver as unknown as { master: PgPool }).master;
    const name = this.nameOf(text, family);
    const result = await pool.query(new PreparedQuery(text, values, name));
    return (result.command === 'UPDATE' || result.command === 'DELETE' ? [result.rows, result.rowCount] : result.rows) as T;
  }
}
