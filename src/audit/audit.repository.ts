import { Injectable } from '@nestjs/common';
import { keyset, toPage, withDescending, type Page, type SortAllowList } from '../common/pagination/keyset';
import type { Actor } from '../common/context/request-context';
import { PreparedStatements } from '../database/prepared-statements';
import { SqlConditions, type Queryable } from '../database/sql';

export interface AuditRow {
  id: number;
  occurred_at: Date;
  actor: string;
  actor_type: string;
  actor_key_id: number | null;
  actor_name: string | null;
  actor_subject: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  request_id: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface NewAuditRow {
  actor: Actor;
  action: string;
  resourceType: string;
  resourceId: string | null;
  requestId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  resource_type?: string;
  resource_id?: string;
  since?: string;
  until?: string;
}

export const AUDIT_SORTS = ['occurred_at', '-occurred_at'] as const;
export type AuditSort = (typeof AUDIT_SORTS)[number];

const SORTS: SortAllowList = withDescending({ occurred_at: { expression: 'a.occurred_at', cast: 'timestamptz' } });
const COLUMNS = 'a.id, a.occurred_at, a.actor, a.actor_type, a.actor_key_id, a.actor_name, a.actor_subject, a.action, a.resource_type, a.resource_id, a.request_id, a.before, a.after';

@Injectable()
export class AuditRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  async insert(row: NewAuditRow, manager: Queryable): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (actor, actor_type, actor_key_id, actor_name, actor_subject, action, resource_type, resource_id, request_id, before, after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)`,
      [
        row.actor.actor,
        row.actor.kind,
        row.actor.keyId,
        row.actor.name,
        row.actor.subject,
        row.action,
        row.resourceType,
        row.resourceId,
        row.requestId,
        row.before === null ? null : JSON.stringify(row.before),
        row.after === null ? null : JSON.stringify(row.after),
      ],
    );
  }

  async listPage<T>(filter: AuditFilter, sort: AuditSort, limit: number, pageToken: string | undefined, map: (row: AuditRow) => T): Promise<Page<T>> {
    // `actor` names an actor identity (api_key:12, oidc:<subject>, bootstrap), a key's name, or an OIDC subject.
    const where = new SqlConditions()
      .addIf(filter.actor !== undefined, '(a.actor = ? OR a.actor_name = ? OR a.actor_subject = ?)', filter.actor, filter.actor, filter.actor)
      .addIf(filter.action !== undefined, 'a.action = ?', filter.action)
      .addIf(filter.resource_type !== undefined, 'a.resource_type = ?', filter.resource_type)
      .addIf(filter.resource_id !== undefined, 'a.resource_id = ?', filter.resource_id)
      .addIf(filter.since !== undefined, 'a.occurred_at >= ?::timestamptz', filter.since)
      .addIf(filter.until !== undefined, 'a.occurred_at < ?::timestamptz', filter.until);
    const page = keyset(sort, SORTS, 'a.id', pageToken, { ...filter });
    if (page.after) where.add(page.after.sql, ...page.after.params);
    const rows: (AuditRow & { sort_value: string })[] = await this.prepared.query(
      `SELECT ${COLUMNS}, ${page.sortValueSelect} FROM audit_log a ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
    return toPage(rows, limit, sort, page.fingerprint, map);
  }

  /** Through the one function the database allows to delete audit rows. */
  async prune(retentionDays: number): Promise<number> {
    const rows: { deleted: number }[] = await this.prepared.query('SELECT prune_audit_log($1) AS deleted', [retentionDays]);
    return rows[0].deleted;
  }
}
