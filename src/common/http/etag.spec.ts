import { PreconditionFailedError } from '../errors/application.error';
import { assertIfMatch, etagOf, ifNoneMatchHits } from './etag';

describe('etag', () => {
  const etag = etagOf({ id: 1, name: 'a' });

  it('changes when any field changes and is a quoted strong tag', () => {
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(etagOf({ id: 1, name: 'b' })).not.toEqual(etag);
    expect(etagOf({ id: 1, name: 'a' })).toEqual(etag);
  });

  it('If-None-Match: weak comparison, lists and *', () => {
    expect(ifNoneMatchHits(undefined, etag)).toBe(false);
    expect(ifNoneMatchHits(etag, etag)).toBe(true);
    expect(ifNoneMatchHits(`W/${etag}`, etag)).toBe(true);
    expect(ifNoneMatchHits(`"x", ${etag}`, etag)).toBe(true);
    expect(ifNoneMatchHits('*', etag)).toBe(true);
    expect(ifNoneMatchHits('"other"', etag)).toBe(false);
  });

  it('If-Match: strong comparison; a weak tag never matches', () => {
    expect(() => assertIfMatch(undefined, etag)).not.toThrow();
    expect(() => assertIfMatch(etag, etag)).not.toThrow();
    expect(() => assertIfMatch('*', etag)).not.toThrow();
    expect(() => assertIfMatch(`"x",${etag}`, etag)).not.toThrow();
    expect(() => assertIfMatch(`W/${etag}`, etag)).toThrow(PreconditionFailedError);
    expect(() => assertIfMatch('"stale"', etag)).toThrow(PreconditionFailedError);
  });
});
