import type { Requirement } from './selector';

/** Registers a parameter value and returns its placeholder (`$3`). */
export type ParamFn = (value: unknown) => string;

const containment = (key: string, value: string) => JSON.stringify({ [key]: value });

/**
 * The WHERE condition that selects rows whose `column` (a jsonb labels expression) matches the
 * selector, or undefined for an empty selector. Values are always parameters.
 *
 * Equality and `in` are written as jsonb containment (`labels @> '{"env":"prod"}'`), which a GIN
 * index (`jsonb_path_ops`) answers: all equalities become one containment of a merged object, and
 * `in (a, b)` an OR of containments (a BitmapOr of index scans). Negations and existence tests cannot
 * use that index; they filter the rows the other conditions (or the sort order's index) produce.
 */
export function selectorCondition(requirements: Requirement[], column: string, param: ParamFn): string | undefined {
  if (requirements.length === 0) return undefined;
  const isEquality = ({ operator, values }: Requirement) => (operator === '=' || operator === 'in') && values.length === 1;
  const equalities: Record<string, string> = {};
  for (const { key, values } of requirements.filter(isEquality)) {
    // Two different values required for one key: nothing can match.
    if (Object.prototype.hasOwnProperty.call(equalities, key) && equalities[key] !== values[0]) return 'false';
    equalities[key] = values[0];
  }
  const conditions: string[] = [];
  if (Object.keys(equalities).length > 0) conditions.push(`${column} @> ${param(JSON.stringify(equalities))}::jsonb`);
  const anyOf = (key: string, values: string[]) => values.map((value) => `${column} @> ${param(containment(key, value))}::jsonb`).join(' OR ');
  for (const requirement of requirements) {
    if (isEquality(requirement)) continue;
    const { key, operator, values } = requirement;
    switch (operator) {
      case 'in':
        conditions.push(`(${anyOf(key, values)})`);
        break;
      case '!=':
      case 'notin':
        conditions.push(`NOT (${anyOf(key, values)})`);
        break;
      case 'exists':
        conditions.push(`jsonb_exists(${column}, ${param(key)}::text)`);
        break;
      case '!exists':
        conditions.push(`NOT jsonb_exists(${column}, ${param(key)}::text)`);
        break;
    }
  }
  return conditions.join(' AND ');
}

/**
 * The selector as the jsonb argument of the SQL function `registry_labels_match(labels, selector)`
 * (migration 1795703000000), for queries whose text must not depend on the selector (the resolve
 * prepared statement): `[{"key": "env", "op": "in", "values": ["prod"]}, …]` with op one of
 * `in`, `notin`, `exists`, `not_exists`.
 */
export function selectorAsJson(requirements: Requirement[]): string | null {
  if (requirements.length === 0) return null;
  const op = { '=': 'in', in: 'in', '!=': 'notin', notin: 'notin', exists: 'exists', '!exists': 'not_exists' } as const;
  return JSON.stringify(requirements.map(({ key, operator, values }) => ({ key, op: op[operator], values })));
}
