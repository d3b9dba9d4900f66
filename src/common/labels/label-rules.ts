/**
 * Kubernetes label rules (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/),
 * exactly: a key is an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters of
 * `[A-Za-z0-9._-]` that starts and ends with a letter or digit; a value is empty or follows the name
 * rule. The same rules are a database check (`registry_labels_valid`, migration 1795703000000).
 */
export type Labels = Record<string, string>;

export const MAX_LABELS = 64;
export const MAX_LABEL_NAME_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 63;
export const MAX_LABEL_PREFIX_LENGTH = 253;

const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

const NAME_RULE = `at most ${MAX_LABEL_NAME_LENGTH} characters of A-Z, a-z, 0-9, "-", "_" or ".", starting and ending with a letter or digit`;

/** Shown to clients: long input is cut so an error message stays readable. */
export const quoteForMessage = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);

/** Why `key` is not a valid label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'has an empty prefix before "/"';
    if (prefix.length > MAX_LABEL_PREFIX_LENGTH || !DNS_SUBDOMAIN.test(prefix)) {
      return `has an invalid prefix: it must be a DNS subdomain (lowercase letters, digits, "-" and ".", at most ${MAX_LABEL_PREFIX_LENGTH} characters, e.g. example.com)`;
    }
  }
  if (name.length === 0) return 'has an empty name';
  if (name.length > MAX_LABEL_NAME_LENGTH || !NAME.test(name)) return `has an invalid name: it must be ${NAME_RULE}`;
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is (the empty string is valid). */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return undefined;
  if (value.length > MAX_LABEL_VALUE_LENGTH || !NAME.test(value)) return `must be empty or ${NAME_RULE}`;
  return undefined;
}

/** Every problem with a labels object (at most `limit`), each naming the key it concerns. */
export function labelsProblems(value: unknown, limit = 5): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return ['must be an object of label keys to string values'];
  const entries = Object.entries(value);
  const problems: string[] = [];
  if (entries.length > MAX_LABELS) problems.push(`must have at most ${MAX_LABELS} labels (got ${entries.length})`);
  for (const [key, labelValue] of entries) {
    if (problems.length >= limit) break;
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push(`key ${quoteForMessage(key)} ${keyProblem}`);
    const valueProblem = labelValueProblem(labelValue);
    if (valueProblem) problems.push(`value of ${quoteForMessage(key)} ${valueProblem}`);
  }
  return problems;
}
