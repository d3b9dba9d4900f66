import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { AuditLog } from './audit-log.service';

/**
 * Nightly, every replica deletes audit rows older than AUDIT_RETENTION_DAYS (through the database's
 * prune_audit_log function; concurrent runs simply find nothing left to delete).
 */
@Injectable()
export class AuditPruner {
  private readonly logger = new Logger(AuditPruner.name);

  constructor(private readonly audit: AuditLog) {}

  @Cron('17 4 * * *', { name: 'audit-prune', timeZone: 'UTC' })
  async pruneOldEntries(): Promise<void> {
    try {
      await this.audit.prune();
    } catch (error) {
      this.logger.warn({ err: error }, 'pruning the audit log failed; it will be retried tomorrow');
    }
  }
}
