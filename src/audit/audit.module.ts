import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { AuditEntryEntity } from './audit-entry.entity';
import { AuditLog } from './audit-log.service';
import { AuditController } from './audit.controller';
import { AuditPruner } from './audit.pruner';
import { AuditRepository } from './audit.repository';

/** Global: every feature that changes data records it with AuditLog. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntryEntity]), DatabaseModule],
  controllers: [AuditController],
  providers: [AuditLog, AuditRepository, AuditPruner],
  exports: [AuditLog],
})
export class AuditModule {}
