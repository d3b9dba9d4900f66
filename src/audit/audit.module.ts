import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DatabaseModule } from '../database/database.module';
import { ActorTransactionSubscriber } from './actor-transaction.subscriber';
import { AuditEntryEntity } from './audit-entry.entity';
import { AuditLog } from './audit-log.service';
import { AuditController } from './audit.controller';
import { AuditPruner } from './audit.pruner';
import { AuditRepository } from './audit.repository';

/**
 * Global: every feature that changes data records it with AuditLog. It also gives every transaction
 * run for a caller that caller's identity, for the change events the triggers write.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntryEntity]), DatabaseModule],
  controllers: [AuditController],
  providers: [AuditLog, AuditRepository, AuditPruner],
  exports: [AuditLog],
})
export class AuditModule implements OnModuleInit {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    if (!this.dataSource.subscribers.some((subscriber) => subscriber instanceof ActorTransactionSubscriber)) {
      this.dataSource.subscribers.push(new ActorTransactionSubscriber());
    }
  }
}
