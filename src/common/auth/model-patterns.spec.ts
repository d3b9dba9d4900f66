import fc from 'fast-check';
import { isModelPattern, ModelRestriction, modelPatternsToLike } from './model-patterns';

/** PostgreSQL LIKE semantics (backslash escape), implemented independently for the property below. */
function like(text: string, pattern: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') source += pattern[++i].replace(/[.*+?^${}()|[\]\\-]/g, (m) => `\\${m}`);
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\-]/g, (m) => `\\${m}`);
  }
  return new RegExp(`^${source}$`, 's').test(text);
}

describe(ModelRestriction.name, () => {
  it('matches names by glob: * any run, ? one character, everything else literally', () => {
    const sut = new ModelRestriction(['team-a-*', 'gpt-4?', 'exact.name']);
    expect(sut.allows('team-a-x')).toBe(true);
    expect(sut.allows('team-a-')).toBe(true);
    expect(sut.allows('team-b-x')).toBe(false);
    expect(sut.allows('gpt-4o')).toBe(true);
    expect(sut.allows('gpt-4')).toBe(false);
    expect(sut.allows('exact.name')).toBe(true);
    expect(sut.allows('exactxname')).toBe(false);
  });

  it('escapes LIKE wildcards that are literal in names (_ and .)', () => {
    expect(modelPatternsToLike(['team_a-*', 'a?b'])).toEqual(['team\\_a-%', 'a_b']);
  });

  it('agrees with the LIKE translation on every name and pattern', () => {
    const char = fc.constantFrom(...'ab_.-1'.split(''));
    const name = fc.array(char, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
    const pattern = fc.array(fc.oneof(char, fc.constant('*'), fc.constant('?')), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(name, pattern, (n, p) => {
        const sut = new ModelRestriction([p]);
        expect(sut.allows(n)).toBe(like(n, sut.like[0]));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only patterns over the model-name alphabet', () => {
    expect(isModelPattern('team-a-*')).toBe(true);
    expect(isModelPattern('Team')).toBe(false);
    expect(isModelPattern('a%')).toBe(false);
    expect(isModelPattern('')).toBe(false);
  });
});
