/**
 * What an audit row records of a change: for a creation the new representation, for a deletion the
 * old one, for an update only the fields that changed, before and after. Secrets never: a field whose
 * name says it holds one is recorded as changed, with its value redacted.
 */
export interface AuditChange {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export const REDACTED = '[redacted]';
const SECRET_FIELD = /secret|password|passphrase|token|credential|private|authorization|^key$|_key$|key_hash/i;
/** Bookkeeping that changes with every write and says nothing about the change. */
const IGNORED_FIELDS = new Set(['updated_at']);

function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

function visible(record: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    if (IGNORED_FIELDS.has(field) || value === undefined) continue;
    result[field] = SECRET_FIELD.test(field) ? REDACTED : value;
  }
  return result;
}

/** The change to record, or undefined when an update changed nothing (no audit row is written then). */
export function auditChange(before: object | null | undefined, after: object | null | undefined): AuditChange | undefined {
  const old = before ? (before as Record<string, unknown>) : null;
  const next = after ? (after as Record<string, unknown>) : null;
  if (!old || !next) return { before: old && visible(old), after: next && visible(next) };
  const changedBefore: Record<string, unknown> = {};
  const changedAfter: Record<string, unknown> = {};
  for (const field of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (IGNORED_FIELDS.has(field) || canonical(old[field]) === canonical(next[field])) continue;
    const secret = SECRET_FIELD.test(field);
    changedBefore[field] = secret ? REDACTED : (old[field] ?? null);
    changedAfter[field] = secret ? REDACTED : (next[field] ?? null);
  }
  return Object.keys(changedAfter).length > 0 ? { before: changedBefore, after: changedAfter } : undefined;
}
