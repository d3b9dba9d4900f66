/** Exit codes, for scripts: `case $? in 1) …` */
export const EXIT = {
  ok: 0,
  /** The registry (or a guard of the CLI's own, such as --if-current-version) refused the request. */
  refused: 1,
  /** Bad flags or arguments: nothing was sent. */
  usage: 2,
  /** The registry could not be reached (or answered 502/503/504) after the retries. */
  unreachable: 3,
} as const;

/** Bad flags, arguments or local files: exit 2. */
export class UsageError extends Error {}

/** The registry is unreachable or unavailable after the retries: exit 3. */
export class UnreachableError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/**
 * A refusal decided by the CLI from what the registry answered (the model has no such version, the
 * alias moved): exit 1, reported like a problem of the service (`title`, `detail`).
 */
export class RefusedError extends Error {
  constructor(
    readonly title: string,
    readonly detail: string,
    readonly problem: Record<string, unknown> = { title, detail },
  ) {
    super(`${title}: ${detail}`);
  }
}
