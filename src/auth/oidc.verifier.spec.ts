import { scopesFor, subjectPatternRegExp } from './oidc.verifier';

describe('OIDC scopes', () => {
  const config = {
    scopesClaim: 'scope',
    subjectScopes: [
      { pattern: 'repo:acme/ml-pipeline:*', scopes: ['registry:write', 'usage:report'] },
      { pattern: 'user:?', scopes: ['registry:read'] },
    ],
  };

  it('takes known scopes from a space-separated claim or an array, ignoring others', () => {
    expect([...scopesFor({ scope: 'openid registry:read admin' }, config)].sort()).toEqual(['admin', 'registry:read']);
    expect([...scopesFor({ scope: ['registry:manage', 'email'] }, config)]).toEqual(['registry:manage']);
    expect([...scopesFor({ scope: 42 }, config)]).toEqual([]);
  });

  it('adds the scopes of every subject rule that matches', () => {
    expect([...scopesFor({ sub: 'repo:acme/ml-pipeline:ref:refs/heads/main', scope: 'registry:read' }, config)].sort()).toEqual(['registry:read', 'registry:write', 'usage:report']);
    expect([...scopesFor({ sub: 'repo:acme/other:ref:refs/heads/main' }, config)]).toEqual([]);
    expect([...scopesFor({ sub: 'user:x' }, config)]).toEqual(['registry:read']);
    expect([...scopesFor({ sub: 'user:xy' }, config)]).toEqual([]);
  });

  it('treats everything but * and ? in a subject pattern literally', () => {
    expect(subjectPatternRegExp('a.b+(c)').test('a.b+(c)')).toBe(true);
    expect(subjectPatternRegExp('a.b').test('axb')).toBe(false);
  });
});
