import * as path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig, ServerAddress } from '../config/database.config';
import './pg-types';

/** Compiled migrations sit in dist/migrations; under ts-node and jest the TypeScript sources are used. */
const MIGRATIONS = __filename.endsWith('.ts')
  ? path.join(__dirname, '..', '..', 'migrations', '*.ts')
  : path.join(__dirname, '..', 'migrations', '*.js');

const ENTITIES = path.join(__dirname, '..', '**', '*.entity.{ts,js}');

export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * The key under the options' `extra` that carries the direct server address to openDedicatedClient.
 * `extra` goes to the pg pool, which ignores keys it does not know.
 */
export const DIRECT_SERVER_OPTION = 'directServer';

export interface PoolExtra {
  [DIRECT_SERVER_OPTION]?: ServerAddress;
}

/** `sendStatementTimeout: false` leaves DB_STATEMENT_TIMEOUT_MS out of the startup parameters (see statementTimeoutAccepted). */
export function dataSourceOptions(config: DatabaseConfig, applicationName = 'model-registry', { sendStatementTimeout = true } = {}): DataSourceOptions {
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
      // A startup parameter: PgBouncer refuses it unless told to ignore it (see the README's PgBouncer settings).
      ...(config.statementTimeoutMs > 0 && sendStatementTimeout ? { statement_timeout: config.statementTimeoutMs } : {}),
      [DIRECT_SERVER_OPTION]: config.direct,
    },
  };
}
