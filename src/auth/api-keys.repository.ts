import { Injectable } from '@nestjs/common';
import { keyset, toPage, withDescending, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { SqlConditions, type Queryable } from '../database/sql';

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  models: string[] | null;
  expires_at: Date | null;
  created_at: Date;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** What authentication needs of a key: its hash, compared in constant time, and what it allows. */
export interface ApiKeyCredential {
  id: number;
  name: string;
  prefix: string;
  key_hash: Buffer;
  scopes: string[];
  models: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export interface NewApiKey {
  name: string;
  prefix: string;
  hash: Buffer;
  scopes: string[];
  models: string[] | null;
  expiresAt: string | null;
  createdBy: string | null;
}

export const API_KEY_SORTS = ['created_at', '-created_at'] as const;
export type ApiKeySort = (typeof API_KEY_SORTS)[number];

const SORTS: SortAllowList = withDescending({ created_at: { expression: 'k.created_at', cast: 'timestamptz' } });
const COLUMNS = 'k.id, k.name, k.prefix, k.scopes, k.models, k.expires_at, k.created_at, k.created_by, k.last_used_at, k.revoked_at, k.revoked_by';
export const API_KEY_CREDENTIAL_SQL = 'SELECT id, name, prefix, key_hash, scopes, models, expires_at, revoked_at FROM api_keys WHERE prefix = $1';

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  async insert(key: NewApiKey, manager: Queryable): Promise<ApiKeyRow> {
    const rows: ApiKeyRow[] = await manager.query(
      `INSERT INTO api_keys AS k (name, prefix, key_hash, scopes, models, expires_at, created_by) VALUES ($1, $2, $3, $4::text[], $5::text[], $6::timestamptz, $7)
       RETURNING ${COLUMNS}`,
      [key.name, key.prefix, key.hash, key.scopes, key.models, key.expiresAt, key.createdBy],
    );
    return rows[0];
  }

  async findById(id: number, manager?: Queryable, options: { lock?: boolean } = {}): Promise<ApiKeyRow | undefined> {
    const rows: ApiKeyRow[] = await (manager ?? this.prepared).query(`SELECT ${COLUMNS} FROM api_keys k WHERE k.id = $1${options.lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0];
  }

  async findCredential(prefix: string): Promise<ApiKeyCredential | undefined> {
    const rows: ApiKeyCredential[] = await this.prepared.query(API_KEY_CREDENTIAL_SQL, [prefix]);
    return rows[0];
  }

  async listPage<T>(sort: ApiKeySort, limit: number, pageToken: string | undefined, map: (row: ApiKeyRow) => T): Promise<Page<T>> {
    const where = new SqlConditions();
    const page = keyset(sort, SORTS, 'k.id', pageToken, {});
    if (page.after) where.add(page.after.sql, ...page.after.params);
    const rows: (ApiKeyRow & { sort_value: string })[] = await this.prepared.query(
      `SELECT ${COLUMNS}, ${page.sortValueSelect} FROM api_keys k ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
    return toPage(rows, limit, sort, page.fingerprint, map);
  }

  async revoke(id: number, revokedBy: string, manager: Queryable): Promise<ApiKeyRow> {
    const rows: [ApiKeyRow[], number] = await manager.query(
      `UPDATE api_keys k SET revoked_at = now(), revoked_by = $2 WHERE k.id = $1 RETURNING ${COLUMNS}`,
      [id, revokedBy],
    );
    return rows[0][0];
  }

  /**
   * Prefixes of keys revoked at or after `since` (database time), and the database's time now. A
   * revocation stamps the start of its transaction, so callers poll with an overlap.
   */
  async revokedSince(since: Date): Promise<{ at: Date; prefixes: string[] }> {
    const rows: { at: Date; prefixes: string[] }[] = await this.prepared.query(
      'SELECT now() AS at, ARRAY(SELECT prefix FROM api_keys WHERE revoked_at >= $1::timestamptz) AS prefixes',
      [since],
    );
    return rows[0];
  }

  /** last_used_at, throttled by the caller; never moves backwards. */
  async touchLastUsed(id: number): Promise<void> {
    await this.prepared.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now())', [id]);
  }
}
