import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { appConfig } from './config/app.config';
import { databaseConfig } from './config/database.config';
import { retentionConfig } from './config/retention.config';
import { telemetryConfig } from './config/telemetry.config';
import { gatewayConfig } from './config/gateway.config';
import { webhookConfig } from './config/webhook.config';
import { securityConfig } from './config/security.config';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { createValidationPipe } from './common/validation/validation.pipe';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { ModelsModule } from './models/models.module';
import { VersionsModule } from './versions/versions.module';
import { BindingsModule } from './bindings/bindings.module';
import { RetentionModule } from './retention/retention.module';
import { StatsModule } from './stats/stats.module';
import { AliasesModule } from './aliases/aliases.module';
import { ResolveModule } from './resolve/resolve.module';
import { CatalogModule } from './catalog/catalog.module';
import { EventsModule } from './events/events.module';
import { TelemetryModule } from './telemetry/telemetry.module';
import { ProblemsModule } from './problems/problems.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      // main.ts loads .env into process.env before anything reads it.
      ignoreEnvFile: true,
      load: [appConfig, databaseConfig, telemetryConfig, retentionConfig, gatewayConfig, webhookConfig, securityConfig],
    }),
    ScheduleModule.forRoot(),
    DatabaseModule,
    AuditModule,
    AuthModule,
    HealthModule,
    ProblemsModule,
    ModelsModule,
    VersionsModule,
    BindingsModule,
    AliasesModule,
    ResolveModule,
    CatalogModule,
    EventsModule,
    RetentionModule,
    StatsModule,
    WebhooksModule,
    TelemetryModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
  ],
})
export class AppModule {}
