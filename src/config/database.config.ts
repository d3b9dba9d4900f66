import * as path from 'node:path';
import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export interface EmbeddedPostgresSettings {
  dataDir: string;
  port: number;
}

/** A server address: where the pool connects, or where sessions that need one connect. */
export interface ServerAddress {
  host: string;
  port: number;
}

export interface DatabaseConfig {
  host: string;
  port: number;
  /**
   * Where connections that need a whole server session connect (advisory locks, LISTEN): PostgreSQL
   * itself when the pool goes through a transaction-pooling PgBouncer. Defaults to host and port.
   */
  direct: ServerAddress;
  database: string;
  user: string;
  password: string | undefined;
  ssl: boolean;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  runMigrations: boolean;
  /** Named (protocol-level) prepared statements on the pool; off for PgBouncer < 1.21 in transaction mode. */
  preparedStatements: boolean;
  /** Set when POSTGRES_HOST is not: the service starts and owns a PostgreSQL of its own. */
  embedded?: EmbeddedPostgresSettings;
}

export function databaseConfigFrom(env: Environment, cwd = process.cwd()): DatabaseConfig {
  const common = {
    database: env.POSTGRES_DB,
    poolSize: env.DB_POOL_SIZE,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    runMigrations: env.DB_MIGRATIONS_RUN,
    preparedStatements: env.DB_PREPARED_STATEMENTS,
  };
  if (env.POSTGRES_HOST === undefined) {
    return {
      ...common,
      host: '127.0.0.1',
      port: env.EMBEDDED_POSTGRES_PORT,
      direct: { host: '127.0.0.1', port: env.EMBEDDED_POSTGRES_PORT },
      user: 'postgres',
      password: env.POSTGRES_PASSWORD,
      ssl: false,
      embedded: { dataDir: path.resolve(cwd, env.EMBEDDED_POSTGRES_DIR), port: env.EMBEDDED_POSTGRES_PORT },
    };
  }
  return {
    ...common,
    host: env.POSTGRES_HOST,
    port: env.POSTGRES_PORT,
    direct: { host: env.POSTGRES_DIRECT_HOST ?? env.POSTGRES_HOST, port: env.POSTGRES_DIRECT_PORT ?? env.POSTGRES_PORT },
    user: env.POSTGRES_USER,
    password: env.POSTGRES_PASSWORD,
    ssl: env.POSTGRES_SSL,
  };
}

export const databaseConfig = registerAs('database', () => databaseConfigFrom(parseEnvironment()));
