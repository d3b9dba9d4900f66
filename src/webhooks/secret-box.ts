import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Signing secrets encrypted at rest (AES-256-GCM). They cannot be hashed like API keys: the service
 * needs the secret itself to compute each delivery's HMAC, so it must be able to recover it.
 *
 * Keys come from WEBHOOK_SECRET_KEY (the first encrypts; every one decrypts, so a key can be rotated by
 * putting the new one first). Without it, a key built into the service is used and a warning is logged:
 * secrets are then only obfuscated — anyone holding the database and this source code can read them —
 * which keeps the zero-setup start working and is upgraded by setting the variable (secrets under an
 * older key are re-encrypted with the current one at start-up). A stored value names its key
 * (a fingerprint), so a missing key is reported as such rather than as corruption.
 */
export const BUILT_IN_KEY = 'model-registry built-in webhook secret key: not a secret';
const FORMAT = 'v1';

interface Key {
  id: string;
  bytes: Buffer;
}

function deriveKey(material: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', Buffer.from(material, 'utf8'), 'model-registry/webhook-secrets', 'aes-256-gcm', 32));
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 12), bytes };
}

export class SecretKeyMissingError extends Error {
  constructor(readonly keyId: string) {
    super(`the webhook secret was encrypted with key ${keyId}, which is not among WEBHOOK_SECRET_KEY`);
    this.name = 'SecretKeyMissingError';
  }
}

export class SecretBox {
  private readonly current: Key;
  private readonly keys: Map<string, Key>;

  /** `configured`: the WEBHOOK_SECRET_KEY list (empty: the built-in key). */
  constructor(configured: readonly string[]) {
    const derived = [...configured, BUILT_IN_KEY].map(deriveKey);
    this.current = derived[0];
    this.keys = new Map(derived.map((key) => [key.id, key]));
  }

  get usesBuiltInKey(): boolean {
    return this.current.id === deriveKey(BUILT_IN_KEY).id;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv);
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [FORMAT, this.current.id, iv.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  decrypt(stored: string): string {
    const [format, keyId, iv, sealed] = stored.split('.');
    if (format !== FORMAT || !iv || !sealed) throw new Error('the stored webhook secret is not in a known format');
    const key = this.keys.get(keyId);
    if (!key) throw new SecretKeyMissingError(keyId);
    const bytes = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  }

  /** Whether a stored value was encrypted with another key than the current one. */
  isStale(stored: string): boolean {
    return stored.split('.')[1] !== this.current.id;
  }
}

/** A new signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
