import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { webhookConfig } from '../config/webhook.config';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveryEntity } from './webhook-delivery.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhookTelemetry } from './webhook-telemetry';
import { HostResolver, WebhookUrlPolicy } from './webhook-url-policy';
import { WebhookWorker } from './webhook-worker';
import { WebhookEntity } from './webhook.entity';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [TypeOrmModule.forFeature([WebhookEntity, WebhookDeliveryEntity]), DatabaseModule, EventsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhooksRepository,
    WebhookDeliveriesRepository,
    WebhookDispatcher,
    WebhookWorker,
    WebhookSender,
    WebhookSecrets,
    WebhookTelemetry,
    WebhookUrlPolicy,
    HostResolver,
  ],
})
export class WebhooksModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('Webhooks');

  constructor(
    private readonly secrets: WebhookSecrets,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.allowPrivateNetworks) {
      this.logger.warn('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhooks may target private, loopback and link-local addresses and use plain http. For development and tests only.');
    }
    // Before the schema exists (DB_MIGRATIONS_RUN=false and the migration job still running) this
    // fails; secrets under an older key still decrypt, and the next start upgrades them.
    await this.secrets.upgradeStoredSecrets().catch((error: unknown) => this.logger.warn({ err: error }, 'could not re-encrypt stored webhook secrets now'));
  }
}
