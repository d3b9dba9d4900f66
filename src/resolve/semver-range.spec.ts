import fc from 'fast-check';
import { satisfies } from 'semver';
import { parseSemVer, semverSortKey } from '../common/semver';
import { keyMatches, rangeBounds } from './semver-range';

const key = (version: string) => semverSortKey(parseSemVer(version)!);

describe('rangeBounds', () => {
  const versions = ['0.9.0', '1.0.0', '1.3.9', '1.4.0-beta.1', '1.4.0', '1.4.7', '1.9.9', '2.0.0-rc.1', '2.0.0', '2.0.1', '2.0.9', '2.1.0', '3.0.0', '3.2.1+build.7'];
  it.each(['^1.4', '~2.0.1', '>=1.2 <2 || 3.x', '1.x', '*', '^1.4.0-beta.1', '1.4.7', '>1.4.0 <=2.0.0', '<1.0.0', '2.0.0 - 2.1.0', '~1', '^0.9.0', '3.2.1'])(
    'matches exactly what node-semver matches for %s',
    (range) => {
      const bounds = rangeBounds(range)!;
      expect(versions.filter((v) => keyMatches(key(v), bounds))).toEqual(versions.filter((v) => satisfies(v, range)));
    },
  );

  it('is undefined for a string that is not a range', () => {
    expect(rangeBounds('not a range')).toBeUndefined();
    expect(rangeBounds('>=banana')).toBeUndefined();
  });

  it('agrees with node-semver on random versions and ranges (property)', () => {
    const part = fc.integer({ min: 0, max: 4 });
    const pre = fc.option(fc.constantFrom('alpha', 'beta.1', 'beta.2', 'rc.1', '0'), { nil: undefined });
    const version = fc.tuple(part, part, part, pre).map(([a, b, c, p]) => `${a}.${b}.${c}${p ? `-${p}` : ''}`);
    const range = fc.oneof(
      version.map((v) => `^${v}`),
      version.map((v) => `~${v}`),
      fc.tuple(version, version).map(([a, b]) => `>=${a} <${b}`),
      fc.tuple(version, version).map(([a, b]) => `>${a} || <=${b}`),
      fc.tuple(part, part).map(([a, b]) => `${a}.${b}.x`),
    );
    fc.assert(
      fc.property(range, fc.array(version, { maxLength: 12 }), (r, vs) => {
        const bounds = rangeBounds(r)!;
        for (const v of vs) expect([v, r, keyMatches(key(v), bounds)]).toEqual([v, r, satisfies(v, r)]);
      }),
      { numRuns: 300 },
    );
  });
});
