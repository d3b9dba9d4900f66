import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '../config/database.config';
import { dataSourceOptions } from './data-source.options';
import { DatabaseMigrator } from './database-migrator';
import { PreparedStatements } from './prepared-statements';
import { StatementTimeoutCheck } from './statement-timeout.check';
import { statementTimeoutAccepted } from './startup-parameters';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: async (config: ConfigType<typeof databaseConfig>) => ({
        ...dataSourceOptions(config, undefined, { sendStatementTimeout: await statementTimeoutAccepted(config, new Logger('Database')) }),
        // Feature modules register their entities with TypeOrmModule.forFeature.
        entities: [],
        autoLoadEntities: true,
        retryAttempts: 10,
        retryDelay: 3_000,
      }),
    }),
  ],
  providers: [DatabaseMigrator, PreparedStatements, StatementTimeoutCheck],
  exports: [DatabaseMigrator, PreparedStatements],
})
export class DatabaseModule {}
