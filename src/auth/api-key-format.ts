import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An API key: `mrk_<12 hex>_<43 base64url>`. The first part (`mrk_` and 48 random bits) is the visible
 * prefix: it is stored, shown in listings and logs, and finds the key's row. The rest is 256 random
 * bits that only the key's holder knows; the service keeps the SHA-256 of the whole key.
 */
export const API_KEY_TAG = 'mrk_';
const API_KEY = /^(mrk_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: Buffer;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function generateApiKey(): GeneratedApiKey {
  const prefix = `${API_KEY_TAG}${randomBytes(6).toString('hex')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** The prefix of a well-formed key, or undefined. */
export function apiKeyPrefix(token: string): string | undefined {
  return API_KEY.exec(token)?.[1];
}

/** Compares two SHA-256 digests in constant time. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
