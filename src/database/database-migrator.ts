import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ConfigType } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/database.config';
import { runMigrationsExclusively } from './migration-runner';

/**
 * Brings the schema up to date before the service starts listening (unless DB_MIGRATIONS_RUN=false,
 * when a separate job migrates) and tells readiness whether the schema is current.
 */
@Injectable()
export class DatabaseMigrator implements OnModuleInit {
  private readonly logger = new Logger(DatabaseMigrator.name);
  private schemaCurrent = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: ConfigType<typeof databaseConfig>,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.runMigrations) {
      this.logger.log('DB_MIGRATIONS_RUN=false: not migrating; readiness waits until the schema is current');
      return;
    }
    const { applied, waitedMs } = await runMigrationsExclusively(this.dataSource);
    this.schemaCurrent = true;
    this.logger.log({ applied, waited_ms: waitedMs }, applied.length > 0 ? `applied ${applied.length} migration(s)` : 'schema is up to date');
  }

  /** True once every migration this build knows is applied. */
  async isSchemaCurrent(): Promise<boolean> {
    if (!this.schemaCurrent) {
      this.schemaCurrent = !(await this.dataSource.showMigrations());
    }
    return this.schemaCurrent;
  }
}
