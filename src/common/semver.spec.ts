import { compareSemVer, isSemVer, parseSemVer, semverSortKey } from './semver';

describe('semver', () => {
  it.each(['1.0.0', '0.0.0', '10.20.30', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0+20130313144700', '1.0.0-beta+exp.sha.5114f85', '1.0.0-x-y-z.--'])(
    'accepts %s',
    (version) => expect(isSemVer(version)).toBe(true),
  );

  it.each(['1', '1.0', 'v1.0.0', '01.0.0', '1.00.0', '1.0.0-', '1.0.0-01', '1.0.0+', '1.0.0-alpha..1', ' 1.0.0', '1.0.0 ', '', '1.0.0-α', '99999999999999999.0.0'])(
    'rejects %s',
    (version) => expect(isSemVer(version)).toBe(false),
  );

  it('orders by SemVer precedence (the example chain of semver.org §11)', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1', '10.0.0'];
    const shuffled = [...chain].reverse();
    const sorted = shuffled.sort((a, b) => compareSemVer(parseSemVer(a)!, parseSemVer(b)!));
    expect(sorted).toEqual(chain);
  });

  it('sort keys compare byte-wise exactly as precedence does', () => {
    const versions = ['1.0.0-alpha-1', '1.0.0-alpha.1', '1.0.0-alpha', '1.0.0-9', '1.0.0-10', '1.0.0-a', '1.0.0', '1.0.1-0', '0.9.99'];
    const byKey = [...versions].sort((a, b) => {
      const ka = semverSortKey(parseSemVer(a)!);
      const kb = semverSortKey(parseSemVer(b)!);
      return Buffer.compare(Buffer.from(ka), Buffer.from(kb));
    });
    expect(byKey).toEqual(['0.9.99', '1.0.0-9', '1.0.0-10', '1.0.0-a', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha-1', '1.0.0', '1.0.1-0']);
  });

  it('ignores build metadata for precedence', () => {
    expect(compareSemVer(parseSemVer('1.0.0+a')!, parseSemVer('1.0.0+b')!)).toBe(0);
  });
});
