import { existsSync } from 'node:fs';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { databaseConfigFrom } from '../config/database.config';
import { parseEnvironment } from '../config/environment';
import { dataSourceOptions } from './data-source.options';
import { EmbeddedPostgres } from './embedded-postgres';
import { statementTimeoutAccepted } from './startup-parameters';

export interface CliDatabase {
  dataSource: DataSource;
  embedded?: EmbeddedPostgres;
}

/**
 * The database the command-line tools work on: the same configuration as the service, including the
 * embedded server when POSTGRES_HOST is not set (started here, and stopped when the process exits).
 */
export async function openCliDatabase(): Promise<CliDatabase> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = databaseConfigFrom(parseEnvironment());
  let embedded: EmbeddedPostgres | undefined;
  if (config.embedded) {
    embedded = new EmbeddedPostgres({
      ...config.embedded,
      user: config.user,
      password: config.password ?? 'postgres',
      databases: [config.database],
      logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
    });
    await embedded.start();
  }
  const sendStatementTimeout = await statementTimeoutAccepted(config, pino({ level: process.env.LOG_LEVEL ?? 'warn' }));
  return { dataSource: new DataSource(dataSourceOptions(config, 'model-registry-cli', { sendStatementTimeout })), embedded };
}
