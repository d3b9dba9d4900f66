import { RequestValidationError } from '../errors/application.error';
import { decodePageToken, encodePageToken, filterFingerprint } from './page-token';

describe('page tokens', () => {
  const fingerprint = filterFingerprint({ model_id: 1, region: 'us-east-1', framework: undefined });

  it('round-trip the cursor', () => {
    const token = encodePageToken({ sort: '-created_at', value: '2026-11-26 12:00:00.123+00', id: 42 }, fingerprint);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token, '-created_at', fingerprint)).toEqual({ sort: '-created_at', value: '2026-11-26 12:00:00.123+00', id: 42 });
  });

  it('fingerprints ignore key order and undefined filters', () => {
    expect(filterFingerprint({ region: 'us-east-1', model_id: 1 })).toBe(fingerprint);
    expect(filterFingerprint({ region: 'eu-west-1', model_id: 1 })).not.toBe(fingerprint);
  });

  it.each([
    ['not base64 JSON', 'garbage!'],
    ['JSON of the wrong shape', Buffer.from('[1,2,3]').toString('base64url')],
    ['a negative id', Buffer.from(JSON.stringify({ s: 'name', v: 'a', i: -1, f: 'x' })).toString('base64url')],
    ['a huge value', Buffer.from(JSON.stringify({ s: 'name', v: 'a'.repeat(5000), i: 1, f: 'x' })).toString('base64url')],
  ])('rejects %s as a validation error on page_token', (_label, token) => {
    expect(() => decodePageToken(token, 'name', 'x')).toThrow(RequestValidationError);
  });

  it('rejects a token from another sort or other filters', () => {
    const token = encodePageToken({ sort: 'name', value: 'a', id: 1 }, fingerprint);
    expect(() => decodePageToken(token, '-name', fingerprint)).toThrow(/different query/);
    expect(() => decodePageToken(token, 'name', filterFingerprint({ model_id: 2 }))).toThrow(/different query/);
  });
});
