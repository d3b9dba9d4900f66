/**
 * SemVer 2.0.0 (https://semver.org): strict parsing and a sort key whose byte order (collation "C")
 * is SemVer precedence, so PostgreSQL can order and range-scan versions with a plain btree index.
 */

/** SemVer 2.0.0's own regular expression; parseSemVer adds limits (safe integers, identifier lengths). */
export const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  build: string[];
}

export const MAX_VERSION_LENGTH = 256;

export function parseSemVer(text: string): SemVer | undefined {
  if (text.length > MAX_VERSION_LENGTH) return undefined;
  const match = SEMVER_PATTERN.exec(text);
  if (!match) return undefined;
  const [major, minor, patch] = [match[1], match[2], match[3]].map(Number);
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const prerelease = match[4] ? match[4].split('.') : [];
  // A numeric identifier longer than 99 digits cannot be length-prefixed in the sort key.
  if (prerelease.some((id) => /^\d{100,}$/.test(id))) return undefined;
  return { major, minor, patch, prerelease, build: match[5] ? match[5].split('.') : [] };
}

export function isSemVer(text: string): boolean {
  return parseSemVer(text) !== undefined;
}

const pad16 = (n: number) => n.toString().padStart(16, '0');

/**
 * Layout: `MMMMMMMMMMMMMMMM.mmmmmmmmmmmmmmmm.pppppppppppppppp` then `~` for a release or `!` and the
 * pre-release identifiers for a pre-release (`!` < `~`: a pre-release precedes its release).
 * Identifiers are joined by a space, which sorts below every identifier character, so a shorter list
 * that is a prefix of a longer one sorts first. A numeric identifier is `0` + its two-digit length +
 * its digits (numeric order, below any alphanumeric one); an alphanumeric one is `1` + itself (ASCII
 * order). Build metadata does not take part in precedence.
 */
export function semverSortKey(version: SemVer): string {
  const core = `${pad16(version.major)}.${pad16(version.minor)}.${pad16(version.patch)}`;
  if (version.prerelease.length === 0) return `${core}~`;
  const identifiers = version.prerelease.map((id) => (/^\d+$/.test(id) ? `0${id.length.toString().padStart(2, '0')}${id}` : `1${id}`));
  return `${core}!${identifiers.join(' ')}`;
}

/** Precedence comparison (build metadata ignored): negative, zero or positive. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const ka = semverSortKey(a);
  const kb = semverSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
