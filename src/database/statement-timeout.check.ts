import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/database.config';

/**
 * DB_STATEMENT_TIMEOUT_MS travels as a connection startup parameter. PgBouncer refuses that parameter
 * unless told to ignore it, and then pooled connections silently run with whatever the server's role
 * or database says. So at startup the service reads the setting a pooled connection really has and
 * warns when it is not the configured one: a runaway query would otherwise hold a connection forever.
 */
@Injectable()
export class StatementTimeoutCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(StatementTimeoutCheck.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: ConfigType<typeof databaseConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    let effectiveMs: number;
    try {
      const rows: { ms: number }[] = await this.dataSource.query(`SELECT setting::int AS ms FROM pg_settings WHERE name = 'statement_timeout'`);
      effectiveMs = rows[0].ms;
    } catch {
      // Unreachable right now: readiness reports the database; this check is advice, not a gate.
      return;
    }
    if (effectiveMs === this.config.statementTimeoutMs) return;
    this.logger.warn(
      { configured_ms: this.config.statementTimeoutMs, effective_ms: effectiveMs },
      `pooled connections run with statement_timeout ${effectiveMs} ms, not DB_STATEMENT_TIMEOUT_MS=${this.config.statementTimeoutMs}: ` +
        'behind PgBouncer, set it on the server (ALTER ROLE <user> SET statement_timeout = …)',
    );
  }
}
