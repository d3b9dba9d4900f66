import { generateSigningSecret, SecretBox, SecretKeyMissingError } from './secret-box';

describe(SecretBox.name, () => {
  const key = 'k'.repeat(32);
  const secret = generateSigningSecret();

  it('round-trips a secret and never stores it in the clear', () => {
    const sut = new SecretBox([key]);
    const stored = sut.encrypt(secret);
    expect(stored).not.toContain(secret.slice(6, 20));
    expect(sut.encrypt(secret)).not.toBe(stored);
    expect(sut.decrypt(stored)).toBe(secret);
  });

  it('refuses a tampered value', () => {
    const sut = new SecretBox([key]);
    const [format, id, iv, sealed] = sut.encrypt(secret).split('.');
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[0] ^= 1;
    expect(() => sut.decrypt([format, id, iv, flipped.toString('base64url')].join('.'))).toThrow();
  });

  it('decrypts with older keys and the built-in one, and says which key is missing', () => {
    const builtIn = new SecretBox([]);
    expect(builtIn.usesBuiltInKey).toBe(true);
    const old = new SecretBox(['o'.repeat(32)]);
    const rotated = new SecretBox([key, 'o'.repeat(32)]);
    expect(rotated.decrypt(old.encrypt(secret))).toBe(secret);
    expect(rotated.decrypt(builtIn.encrypt(secret))).toBe(secret);
    expect(rotated.isStale(old.encrypt(secret))).toBe(true);
    expect(rotated.isStale(rotated.encrypt(secret))).toBe(false);
    expect(() => new SecretBox([key]).decrypt(old.encrypt(secret))).toThrow(SecretKeyMissingError);
  });

  it('generates Standard Webhooks secrets', () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
  });
});
