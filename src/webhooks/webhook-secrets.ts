import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { webhookConfig } from '../config/webhook.config';
import { generateSigningSecret, SecretBox } from './secret-box';
import { WebhooksRepository } from './webhooks.repository';

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Signing secrets: generated, sealed for storage, opened to sign. */
@Injectable()
export class WebhookSecrets {
  private readonly logger = new Logger(WebhookSecrets.name);
  private readonly box: SecretBox;

  constructor(
    private readonly webhooks: WebhooksRepository,
    @Inject(webhookConfig.KEY) config: ConfigType<typeof webhookConfig>,
  ) {
    this.box = new SecretBox(config.secretKeys);
  }

  /** A new secret and its sealed form. */
  generate(): { secret: string; ciphertext: string } {
    const secret = generateSigningSecret();
    return { secret, ciphertext: this.box.encrypt(secret) };
  }

  /**
   * The secrets a delivery is signed with: the current one, and the previous one while it overlaps —
   * unless that one cannot be decrypted (a rotation is also the way out of a lost key). Throws when
   * the current one cannot be.
   */
  signingSecrets(current: string, previous: string | null): string[] {
    const secrets = [this.box.decrypt(current)];
    if (previous) {
      try {
        secrets.push(this.box.decrypt(previous));
      } catch {
        // Signing with the new secret alone is what the receiver will accept once it has switched.
      }
    }
    return secrets;
  }

  /**
   * At start-up: warns when secrets are only obfuscated, and re-encrypts secrets sealed with an older
   * key (or the built-in one) with the current key.
   */
  async upgradeStoredSecrets(): Promise<void> {
    if (this.box.usesBuiltInKey) {
      this.logger.warn(
        'WEBHOOK_SECRET_KEY is not set: webhook signing secrets are encrypted with a key built into the service, which protects nothing against someone who has the database. Set it in production.',
      );
      return;
    }
    const upgraded = await this.webhooks.dataSource.transaction(async (manager) => {
      let count = 0;
      for (const row of await this.webhooks.allSecrets(manager)) {
        if (!this.box.isStale(row.secret_ciphertext) && (row.previous_secret_ciphertext === null || !this.box.isStale(row.previous_secret_ciphertext))) continue;
        try {
          const current = this.box.encrypt(this.box.decrypt(row.secret_ciphertext));
          const previous = row.previous_secret_ciphertext === null ? null : this.box.encrypt(this.box.decrypt(row.previous_secret_ciphertext));
          await this.webhooks.replaceSecrets(row.id, current, previous, manager);
          count++;
        } catch (error) {
          this.logger.error({ err: error, webhook_id: row.id }, 'cannot decrypt the signing secret of a webhook: its deliveries will fail until the key is configured or the secret rotated');
        }
      }
      return count;
    });
    if (upgraded > 0) this.logger.log({ webhooks: upgraded }, `re-encrypted the signing secrets of ${upgraded} webhook(s) with the current WEBHOOK_SECRET_KEY`);
  }
}
