import { apiKeyPrefix, generateApiKey, hashApiKey, sameDigest } from './api-key-format';

describe('API key format', () => {
  it('generates keys with a visible prefix and 256 secret bits, stored only as a SHA-256', () => {
    const sut = generateApiKey();
    expect(sut.key).toMatch(/^mrk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(sut.key.startsWith(`${sut.prefix}_`)).toBe(true);
    expect(Buffer.from(sut.key.slice(sut.prefix.length + 1), 'base64url')).toHaveLength(32);
    expect(sut.hash).toEqual(hashApiKey(sut.key));
    expect(sut.hash).toHaveLength(32);
    expect(generateApiKey().key).not.toBe(sut.key);
  });

  it('finds the prefix only in well-formed keys', () => {
    const { key, prefix } = generateApiKey();
    expect(apiKeyPrefix(key)).toBe(prefix);
    expect(apiKeyPrefix(key.slice(0, -1))).toBeUndefined();
    expect(apiKeyPrefix(`${key}x`)).toBeUndefined();
    expect(apiKeyPrefix('mrk_zzzzzzzzzzzz_' + 'a'.repeat(43))).toBeUndefined();
  });

  it('compares digests of any length safely', () => {
    expect(sameDigest(hashApiKey('a'), hashApiKey('a'))).toBe(true);
    expect(sameDigest(hashApiKey('a'), hashApiKey('b'))).toBe(false);
    expect(sameDigest(hashApiKey('a'), Buffer.alloc(3))).toBe(false);
  });
});
