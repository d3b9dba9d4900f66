import { InvalidArgumentError } from 'commander';

/** Argument parsers for commander: a bad value is a usage error (exit 2) naming the flag. */

export function number(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new InvalidArgumentError('must be a number.');
  return parsed;
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number (0 or more).');
  return Number(value);
}

export function positiveInteger(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('must be a whole number (1 or more).');
  return Number(value);
}

/** Repeatable `--label key=value`: collected into an object. */
export function label(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value.');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** Repeatable, comma-separated values (`--capability tools,vision --capability streaming`). */
export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];
}

export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be a JSON object.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** SemVer 2.0.0 (the registry's rule), checked before a large file is hashed for nothing. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function semver(value: string): string {
  if (!SEMVER.test(value)) throw new InvalidArgumentError('must be a SemVer 2.0.0 version such as 1.4.2.');
  return value;
}

/** Seconds (a decimal) to milliseconds. */
export function seconds(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('must be a number of seconds (0 or more).');
  return Math.round(parsed * 1000);
}
