/**
 * Model restrictions of API keys: glob patterns over model names (`team-a-*`, `gpt-4?`), where `*`
 * matches any run of characters and `?` one character. Checked in memory for a single model and
 * translated to LIKE patterns for lists, so both agree by construction.
 */
export const MODEL_PATTERN = /^[a-z0-9._*?-]{1,128}$/;
export const MAX_MODEL_PATTERNS = 50;

export function isModelPattern(value: unknown): value is string {
  return typeof value === 'string' && MODEL_PATTERN.test(value);
}

/** One RegExp for a set of patterns (anchored). */
export function modelPatternsRegExp(patterns: readonly string[]): RegExp {
  const alternatives = patterns.map((pattern) =>
    pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c === '.' ? '\\.' : c))
      .join(''),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`, 's');
}

/** The patterns as PostgreSQL LIKE patterns (backslash escapes), for `name LIKE ANY($1::text[])`. */
export function modelPatternsToLike(patterns: readonly string[]): string[] {
  return patterns.map((pattern) =>
    pattern
      .split('')
      .map((c) => (c === '*' ? '%' : c === '?' ? '_' : c === '%' || c === '_' || c === '\\' ? `\\${c}` : c))
      .join(''),
  );
}

/** A key's model restriction, ready for both kinds of check. */
export class ModelRestriction {
  private readonly regexp: RegExp;
  readonly like: string[];

  constructor(readonly patterns: readonly string[]) {
    this.regexp = modelPatternsRegExp(patterns);
    this.like = modelPatternsToLike(patterns);
  }

  allows(modelName: string): boolean {
    return this.regexp.test(modelName);
  }
}
