/**
 * A DTO's fast path: a hand-written check for the common, plainly valid shapes of a hot route's input
 * (`GET /models/{id}`, a resolve without constraints), so those skip class-transformer and
 * class-validator (about a fifth of such a request's CPU). It returns the DTO instance the validation
 * pipe would build, or undefined to decline; anything declined — every invalid input, and any valid
 * one it does not recognise — goes the ordinary way. So errors always come from class-validator,
 * unchanged. A fast path may decline more than it must, never accept what class-validator refuses;
 * a property test holds each one to the pipe's own result.
 */
export type FastPath<T extends object> = (value: Readonly<Record<string, unknown>>) => T | undefined;

const fastPaths = new Map<abstract new () => object, FastPath<object>>();

/** Registers `parse` as the fast path of `metatype` (next to the DTO it belongs to). */
export function registerFastPath<T extends object>(metatype: new () => T, parse: FastPath<T>): void {
  fastPaths.set(metatype, parse);
}

export function fastPathOf(metatype: unknown): FastPath<object> | undefined {
  return typeof metatype === 'function' ? fastPaths.get(metatype as new () => object) : undefined;
}

/** The keys of `value` when every one is in `allowed` and holds a string; otherwise undefined. */
export function stringEntries(value: Readonly<Record<string, unknown>>, allowed: ReadonlySet<string>): string[] | undefined {
  const keys = Object.keys(value);
  for (const key of keys) {
    if (!allowed.has(key) || typeof value[key] !== 'string') return undefined;
  }
  return keys;
}

/** Up to 15 digits stays below 2^53; leading zeros are what the text-to-integer conversion also accepts. */
const PLAIN_INTEGER = /^\d{1,15}$/;

/** A positive integer written plainly in a path or query (`42`, `007`) up to `max`; otherwise undefined. */
export function plainPositiveInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (typeof value !== 'string' || !PLAIN_INTEGER.test(value)) return undefined;
  const number = Number(value);
  return number >= 1 && number <= max ? number : undefined;
}
