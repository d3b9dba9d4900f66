import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { ConfigType } from '@nestjs/config';
import { databaseConfig } from '../config/database.config';
import { dataSourceOptions } from './data-source.options';
import { DatabaseMigrator } from './database-migrator';
import { PreparedStatements } from './prepared-statements';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: (config: ConfigType<typeof databaseConfig>) => ({
        ...dataSourceOptions(config),
        // Feature modules register their entities with TypeOrmModule.forFeature.
        entities: [],
        autoLoadEntities: true,
        retryAttempts: 10,
        retryDelay: 3_000,
      }),
    }),
  ],
  providers: [DatabaseMigrator, PreparedStatements],
  exports: [DatabaseMigrator, PreparedStatements],
})
export class DatabaseModule {}
