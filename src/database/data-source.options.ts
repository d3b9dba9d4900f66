import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/database.config';
import './pg-types';

/** Compiled migrations sit in dist/migrations; under ts-node and jest the TypeScript sources are used. */
const MIGRATIONS = __filename.endsWith('.ts')
  ? path.join(__dirname, '..', '..', 'migrations', '*.ts')
  : path.join(__dirname, '..', 'migrations', '*.js');

const ENTITIES = path.join(__dirname, '..', '**', '*.entity.{ts,js}');

export const MIGRATIONS_TABLE = 'schema_migrations';

export function dataSourceOptions(config: DatabaseConfig, applicationName = 'model-registry'): DataSourceOptions {
  return {
    type: 'postgres',
    host: config.host,
    port: config.port,
    database: config.database,
    username: config.user,
    password: config.password,
    ssl: config.ssl ? { rejectUnauthorized: false } : false,
    applicationName,
    entities: [ENTITIES],
    migrations: [MIGRATIONS],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    poolSize: config.poolSize,
    connectTimeoutMS: config.connectTimeoutMs,
    extra: {
      max: config.poolSize,
      connectionTimeoutMillis: config.connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      ...(config.statementTimeoutMs > 0 ? { statement_timeout: config.statementTimeoutMs } : {}),
    },
  };
}
