import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModelRestriction } from '../common/auth/model-patterns';
import type { Principal } from '../common/auth/principal';
import { isScope } from '../config/scopes';
import { apiKeyPrefix, hashApiKey, sameDigest } from './api-key-format';
import { ApiKeysRepository, type ApiKeyCredential } from './api-keys.repository';

/** How often each replica asks for revocations: a revoked key stops working everywhere within ~1-2 s. */
export const REVOCATION_POLL_MS = 1_000;
/** Revocations are stamped with their transaction's start: look back this far past the last poll. */
const REVOCATION_OVERLAP_MS = 10_000;
/** A cached key is re-read at least this often (anything else that changed about it shows up then). */
const MAX_AGE_MS = 5 * 60_000;
/** A prefix that matches no key is not looked up again for this long (it was random: keys are new). */
const UNKNOWN_TTL_MS = 30_000;
const MAX_UNKNOWN = 10_000;
/** last_used_at is written at most this often per key and replica. */
const LAST_USED_EVERY_MS = 60_000;

export type KeyFailure = 'unknown' | 'revoked' | 'expired';

interface CachedKey {
  hash: Buffer;
  principal: Principal;
  revoked: boolean;
  loadedAt: number;
  lastUsedWrittenAt: number;
}

function principalOf(row: ApiKeyCredential): Principal {
  return {
    kind: 'api_key',
    actor: `api_key:${row.id}`,
    keyId: row.id,
    name: row.name,
    subject: null,
    scopes: new Set(row.scopes.filter(isScope)),
    models: row.models ? new ModelRestriction(row.models) : null,
    expiresAt: row.expires_at,
  };
}

/**
 * API key verification without a database round trip per request: keys are cached by prefix (the
 * presented key's SHA-256 is compared in constant time with the stored one), unknown prefixes are
 * remembered briefly, and every replica polls for recent revocations each second and forgets the
 * keys concerned, so a revoked key stops working everywhere within a couple of seconds.
 */
@Injectable()
export class ApiKeyCache implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyCache.name);
  private readonly entries = new Map<string, CachedKey>();
  private readonly loading = new Map<string, Promise<CachedKey | undefined>>();
  private readonly unknown = new Map<string, number>();
  private revokedSince = new Date(0);
  private timer?: NodeJS.Timeout;
  private pollFailing = false;
  private stopped = false;

  constructor(private readonly keys: ApiKeysRepository) {}

  onApplicationBootstrap(): void {
    this.schedulePoll();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The key's principal, or why it is refused; `digest` is the token's SHA-256. */
  async verify(token: string, digest = hashApiKey(token), now = Date.now()): Promise<Principal | KeyFailure> {
    const prefix = apiKeyPrefix(token);
    if (!prefix) return 'unknown';
    let entry = this.entries.get(prefix);
    if (!entry || now - entry.loadedAt > MAX_AGE_MS) {
      const until = this.unknown.get(prefix);
      if (until !== undefined && until > now) return 'unknown';
      entry = await this.load(prefix);
      if (!entry) return 'unknown';
    }
    if (!sameDigest(digest, entry.hash)) return 'unknown';
    if (entry.revoked) return 'revoked';
    const expiresAt = entry.principal.expiresAt;
    if (expiresAt && expiresAt.getTime() <= now) return 'expired';
    if (now - entry.lastUsedWrittenAt >= LAST_USED_EVERY_MS) {
      entry.lastUsedWrittenAt = now;
      this.keys.touchLastUsed(entry.principal.keyId!).catch((error: unknown) => this.logger.debug({ err: error }, 'could not record last_used_at'));
    }
    return entry.principal;
  }

  /** Drops a key at once (this replica revoked it). */
  forget(prefix: string): void {
    this.entries.delete(prefix);
  }

  private load(prefix: string): Promise<CachedKey | undefined> {
    let pending = this.loading.get(prefix);
    if (!pending) {
      pending = this.keys
        .findCredential(prefix)
        .then((row) => {
          if (!row) {
            if (this.unknown.size >= MAX_UNKNOWN) this.unknown.clear();
            this.unknown.set(prefix, Date.now() + UNKNOWN_TTL_MS);
            this.entries.delete(prefix);
            return undefined;
          }
          const previous = this.entries.get(prefix);
          const entry: CachedKey = {
            hash: row.key_hash,
            principal: principalOf(row),
            revoked: row.revoked_at !== null,
            loadedAt: Date.now(),
            lastUsedWrittenAt: previous?.lastUsedWrittenAt ?? 0,
          };
          this.entries.set(prefix, entry);
          return entry;
        })
        .finally(() => this.loading.delete(prefix));
      this.loading.set(prefix, pending);
    }
    return pending;
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollRevocations().finally(() => this.schedulePoll()), REVOCATION_POLL_MS);
    this.timer.unref();
  }

  /** Forgets cached keys revoked since the last poll (with overlap). Skipped while nothing is cached. */
  async pollRevocations(): Promise<void> {
    if (this.entries.size === 0) return;
    try {
      const { at, prefixes } = await this.keys.revokedSince(this.revokedSince);
      for (const prefix of prefixes) this.entries.delete(prefix);
      this.revokedSince = new Date(at.getTime() - REVOCATION_OVERLAP_MS);
      if (this.pollFailing) this.logger.log('polling for revoked API keys works again');
      this.pollFailing = false;
    } catch (error) {
      // Revocations cannot be learnt: fail closed, keys are read again (and checked) on next use.
      this.entries.clear();
      if (!this.pollFailing) this.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot poll for revoked API keys; cached keys dropped');
      this.pollFailing = true;
    }
  }
}
