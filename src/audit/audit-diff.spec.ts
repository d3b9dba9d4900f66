import { auditChange, REDACTED } from './audit-diff';

describe(auditChange.name, () => {
  it('records a creation as its new state and a deletion as its old one', () => {
    expect(auditChange(null, { id: 1, name: 'm', updated_at: 'x' })).toEqual({ before: null, after: { id: 1, name: 'm' } });
    expect(auditChange({ id: 1, name: 'm' }, null)).toEqual({ before: { id: 1, name: 'm' }, after: null });
  });

  it('records only the fields an update changed, before and after', () => {
    const sut = auditChange({ id: 1, name: 'a', config: { t: 0.7, k: 1 }, description: 'd', updated_at: '1' }, { id: 1, name: 'b', config: { k: 1, t: 0.7 }, description: null, updated_at: '2' });
    expect(sut).toEqual({ before: { name: 'a', description: 'd' }, after: { name: 'b', description: null } });
  });

  it('writes nothing for an update that changed nothing', () => {
    expect(auditChange({ id: 1, name: 'a', updated_at: '1' }, { id: 1, name: 'a', updated_at: '2' })).toBeUndefined();
  });

  it('never records a secret, only that it changed', () => {
    expect(auditChange(null, { name: 'k', key: 'mrk_abc', key_hash: 'h', secret: 's' })).toEqual({ before: null, after: { name: 'k', key: REDACTED, key_hash: REDACTED, secret: REDACTED } });
    expect(auditChange({ secret: 'old', signing_key: 'a' }, { secret: 'new', signing_key: 'a' })).toEqual({ before: { secret: REDACTED }, after: { secret: REDACTED } });
    expect(JSON.stringify(auditChange({ password: 'p1' }, { password: 'p2' }))).not.toMatch(/p1|p2/);
  });
});
