import { Controller, Get, Inject, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorFunction } from '@nestjs/terminus';
import { appConfig } from '../config/app.config';
import { ServiceUnavailableError } from '../common/errors/application.error';
import { DatabaseMigrator } from '../database/database-migrator';
import { poolStats, type PoolStats } from '../database/pool-stats';
import { HealthResponseDto } from './dto/health-response.dto';
import { LifecycleState } from './lifecycle.state';
import { Public } from '../common/auth/access.decorator';

/**
 * Kubernetes probes. Liveness checks only the process, so a database outage never gets pods killed
 * in a restart loop; readiness takes the instance out of the load balancer while the database is
 * unreachable, the schema is not current, or shutdown has begun.
 */
const FAILURE_REASONS: Record<string, string> = {
  database: 'the database is unreachable or did not answer in time',
  migrations: 'database migrations are pending',
  lifecycle: 'the instance is shutting down',
};

const isSaturated = (stats: PoolStats) => stats.waiting > 0 && stats.idle === 0;
const describeSaturation = (stats: PoolStats) => `connection pool saturated: ${stats.total}/${stats.max} in use, ${stats.waiting} waiting`;

@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);
  private lastReady?: boolean;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly migrator: DatabaseMigrator,
    private readonly lifecycle: LifecycleState,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(appConfig.KEY) private readonly config: ConfigType<typeof appConfig>,
  ) {}

  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @Public()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Overall health: process and database (with a timeout)',
    description: 'Pings the database within HEALTH_DB_TIMEOUT_MS and reports the connection pool; 503 when the database does not answer.',
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'Healthy (status degraded while the connection pool is saturated).' })
  check(): Promise<HealthCheckResult> {
    return this.run([this.database, this.pool]);
  }

  @Get('live')
  @HealthCheck({ swaggerDocumentation: false })
  @Public()
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process is up (does not touch the database)',
    description: 'For a liveness probe: a database outage never fails it, so it never gets the instance restarted in a loop.',
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'The process is up.' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.check('process').up({ uptime_s: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @Public()
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: database reachable, schema current, not shutting down',
    description: 'For a readiness probe: 503 (with the state of each check) while the database is unreachable, migrations are pending or shutdown has begun.',
  })
  @ApiOkResponse({ type: HealthResponseDto, description: 'Ready to serve.' })
  async ready(): Promise<HealthCheckResult> {
    try {
      const result = await this.run([this.lifecycleCheck, this.database, this.schema, this.pool]);
      this.noteReadiness(true);
      return result;
    } catch (error) {
      this.noteReadiness(false, error instanceof ServiceUnavailableError ? error.detail : undefined);
      throw error;
    }
  }

  private readonly database: HealthIndicatorFunction = () =>
    this.typeorm.pingCheck('database').withTimeout(this.config.healthDbTimeoutMs);

  private readonly schema: HealthIndicatorFunction = () =>
    this.indicators
      .check('migrations')
      .attempt(async () => {
        if (!(await this.migrator.isSchemaCurrent())) throw new Error('migrations pending');
      })
      .withTimeout(this.config.healthDbTimeoutMs);

  /** Saturation does not take the instance out of rotation (that would shift load onto the others); it is reported. */
  private readonly pool: HealthIndicatorFunction = () => {
    const check = this.indicators.check('pool');
    const stats = poolStats(this.dataSource);
    if (!stats) return check.up();
    return isSaturated(stats) ? check.degraded({ ...stats, message: describeSaturation(stats) }) : check.up({ ...stats });
  };

  private readonly lifecycleCheck: HealthIndicatorFunction = () => {
    const check = this.indicators.check('lifecycle');
    return this.lifecycle.shuttingDown ? check.down({ message: 'shutting down' }) : check.up();
  };

  /** Terminus answers a failed check with its own 503; ours says which check failed, as problem+json. */
  private async run(checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      // Only our own wording: indicator messages can carry driver text, which clients never see.
      const stats = poolStats(this.dataSource);
      const failing = Object.keys(result.error ?? {}).map((name) =>
        name === 'database' && stats && isSaturated(stats) ? `${FAILURE_REASONS.database} (${describeSaturation(stats)})` : (FAILURE_REASONS[name] ?? name),
      );
      const checks = Object.fromEntries(Object.entries(result.details).map(([name, state]) => [name, state.status]));
      throw new ServiceUnavailableError(`Not ready: ${failing.join('; ') || 'a check failed'}.`, { checks, ...(stats ? { pool: stats } : {}) });
    }
  }

  private noteReadiness(ready: boolean, why?: string): void {
    if (this.lastReady === ready) return;
    this.lastReady = ready;
    if (ready) this.logger.log('instance is ready');
    else this.logger.warn({ reason: why }, 'instance is not ready');
  }
}
