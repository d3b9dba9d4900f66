import { Range } from 'semver';
import { parseSemVer, semverSortKey } from '../common/semver';

/**
 * One comparator set of a SemVer range as bounds on the byte-sortable version key, so PostgreSQL can
 * match a range without knowing SemVer. A version matches a set when its key is within the bounds and
 * it is not a pre-release, or it is a pre-release of a version named by one of the set's pre-release
 * comparators (node-semver's rule: `^1.4.0-beta.2` admits 1.4.0-beta.3, not 1.5.0-alpha).
 */
export interface RangeBound {
  low: string | null;
  lowInclusive: boolean;
  high: string | null;
  highInclusive: boolean;
  /** Sort-key prefixes (major.minor.patch) whose pre-releases the set admits, joined by `|`. */
  prereleaseCores: string;
}

/** Length of the `major.minor.patch` part of a sort key. */
export const CORE_KEY_LENGTH = 50;

/** node-semver accepts some versions ours refuses (a pre-release number over 99 digits): then undefined. */
function keyOf(version: string): string | undefined {
  const parsed = parseSemVer(version);
  return parsed && semverSortKey(parsed);
}

/** The bounds of a range such as `^1.4`, `~2.0.1`, `>=1.2 <2 || 3.x`; undefined when it is not a valid range. */
export function rangeBounds(range: string): RangeBound[] | undefined {
  let parsed: Range;
  try {
    parsed = new Range(range);
  } catch {
    return undefined;
  }
  const bounds: RangeBound[] = [];
  for (const comparators of parsed.set) {
    const bound: RangeBound = { low: null, lowInclusive: true, high: null, highInclusive: true, prereleaseCores: '' };
    const cores: string[] = [];
    for (const comparator of comparators) {
      if (comparator.value === '') continue; // '*': no bound
      const key = keyOf(comparator.semver.version);
      if (key === undefined) return undefined;
      if (comparator.semver.prerelease.length > 0) cores.push(key.slice(0, CORE_KEY_LENGTH));
      const operator = comparator.operator;
      if (operator === '>' || operator === '>=' || operator === '') {
        if (bound.low === null || key > bound.low || (key === bound.low && operator === '>')) {
          bound.low = key;
          bound.lowInclusive = operator !== '>';
        }
      }
      if (operator === '<' || operator === '<=' || operator === '') {
        if (bound.high === null || key < bound.high || (key === bound.high && operator === '<')) {
          bound.high = key;
          bound.highInclusive = operator !== '<';
        }
      }
    }
    bound.prereleaseCores = cores.join('|');
    bounds.push(bound);
  }
  return bounds;
}

/** The same test PostgreSQL applies (see the resolve query), for unit tests against node-semver. */
export function keyMatches(key: string, bounds: RangeBound[]): boolean {
  return bounds.some(
    (b) =>
      (b.low === null || key > b.low || (b.lowInclusive && key === b.low)) &&
      (b.high === null || key < b.high || (b.highInclusive && key === b.high)) &&
      (!key.includes('!') || b.prereleaseCores.includes(key.slice(0, CORE_KEY_LENGTH))),
  );
}
