import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { EntityManager } from 'typeorm';
import { RequestContext, systemActor } from '../common/context/request-context';
import type { Page } from '../common/pagination/keyset';
import type { Queryable } from '../database/sql';
import { securityConfig } from '../config/security.config';
import { auditChange } from './audit-diff';
import { AuditRepository, type AuditFilter, type AuditSort } from './audit.repository';
import { AuditEntryDto } from './dto/audit-entry.dto';

export interface AuditedChange {
  /** `<resource>.<past tense>`, like the change feed: `model.created`, `alias.set`, `api_key.revoked`. */
  action: string;
  resourceType: string;
  resourceId: string | number | null;
  /** The resource as the API shows it before the change (omit for a creation). */
  before?: object | null;
  /** …and after it (omit for a deletion). */
  after?: object | null;
}

/**
 * The audit log. Features call `record` inside the transaction of the change it records, with the
 * before and after representations; the caller comes from the request context (the authenticated
 * principal, or the scheduled job), so no feature handles identities.
 *
 * ```ts
 * return this.dataSource.transaction(async (manager) => {
 *   const updated = …;
 *   await this.audit.record(manager, { action: 'model.updated', resourceType: 'model', resourceId: id, before, after });
 *   return updated;
 * });
 * ```
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger(AuditLog.name);

  constructor(
    private readonly audit: AuditRepository,
    @Inject(securityConfig.KEY) private readonly config: ConfigType<typeof securityConfig>,
  ) {}

  /** Writes one audit row in `manager`'s transaction; an update that changed nothing writes none. */
  async record(manager: EntityManager, change: AuditedChange): Promise<void> {
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(`audit: ${change.action} must be recorded inside the transaction of the change`);
    }
    await this.write(manager, change);
  }

  /**
   * The same, on a database session outside TypeORM's pool (a retention run's own session) whose
   * transaction the caller has begun and commits.
   */
  async recordInSession(session: Queryable, change: AuditedChange): Promise<void> {
    await this.write(session, change);
  }

  private async write(manager: Queryable, change: AuditedChange): Promise<void> {
    const diff = auditChange(change.before, change.after);
    if (!diff) return;
    const context = RequestContext.current();
    await this.audit.insert(
      {
        actor: context?.actor ?? systemActor('unknown'),
        action: change.action,
        resourceType: change.resourceType,
        resourceId: change.resourceId === null ? null : String(change.resourceId),
        requestId: context?.requestId ?? null,
        before: diff.before,
        after: diff.after,
      },
      manager,
    );
  }

  list(filter: AuditFilter, sort: AuditSort, limit: number, pageToken: string | undefined): Promise<Page<AuditEntryDto>> {
    return this.audit.listPage(filter, sort, limit, pageToken, AuditEntryDto.fromRow);
  }

  /** Deletes rows older than AUDIT_RETENTION_DAYS, through prune_audit_log(). */
  async prune(): Promise<number> {
    const deleted = await this.audit.prune(this.config.auditRetentionDays);
    if (deleted > 0) this.logger.log({ deleted, older_than_days: this.config.auditRetentionDays }, `pruned ${deleted} audit row(s)`);
    return deleted;
  }
}
