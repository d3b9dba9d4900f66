import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import type { Logger } from '@nestjs/common';
import { ApplicationError } from '../common/errors/application.error';
import type { SecurityConfig } from '../config/security.config';

type Limit = ReturnType<FastifyInstance['createRateLimit']>;

/** Who a request is counted against: its key, token subject, or (anonymous) client IP. */
export function rateLimitKey(request: FastifyRequest): string {
  return request.principal && request.principal.kind !== 'anonymous' ? request.principal.actor : `ip:${request.ip}`;
}

/**
 * RATE_LIMIT_PER_MINUTE requests per caller and minute (fixed windows), counted by @fastify/rate-limit
 * in this process or, with RATE_LIMIT_REDIS_URL, in Redis so that every replica shares one budget.
 * Redis trouble never fails a request: it is logged and the request goes through uncounted.
 */
export class RateLimiter {
  private constructor(
    private readonly limit: Limit,
    private readonly redis: Redis | undefined,
  ) {}

  static async install(fastify: FastifyInstance, config: SecurityConfig['rateLimit'], logger: Logger): Promise<RateLimiter | undefined> {
    if (config.perMinute === 0) return undefined;
    let redis: Redis | undefined;
    if (config.redisUrl) {
      let down = false;
      redis = new Redis(config.redisUrl, {
        // Fail fast instead of queueing behind a dead connection: requests must not wait for Redis.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 500,
        connectTimeout: 2_000,
        lazyConnect: false,
      });
      redis.on('error', (error: Error) => {
        if (!down) logger.warn({ reason: error.message }, 'rate limit Redis unavailable: requests are not counted until it is back');
        down = true;
      });
      redis.on('ready', () => {
        if (down) logger.log('rate limit Redis is back');
        down = false;
      });
    }
    await fastify.register(rateLimit, {
      global: false,
      max: config.perMinute,
      timeWindow: 60_000,
      keyGenerator: rateLimitKey,
      skipOnError: true,
      ...(redis ? { redis, nameSpace: config.redisPrefix } : {}),
    });
    return new RateLimiter(fastify.createRateLimit(), redis);
  }

  /** Counts the request; sets the RateLimit-* headers; throws a 429 problem once the budget is spent. */
  async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = await this.limit(request);
    if (state.isAllowed) return;
    void reply.header('ratelimit-limit', state.max).header('ratelimit-remaining', state.remaining).header('ratelimit-reset', state.ttlInSeconds);
    if (!state.isExceeded) return;
    void reply.header('retry-after', state.ttlInSeconds);
    throw new ApplicationError('too-many-requests', `Rate limit of ${state.max} requests per minute exceeded; retry in ${state.ttlInSeconds} s.`, undefined, {
      limit: state.max,
      retry_after_s: state.ttlInSeconds,
    });
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
  }
}
