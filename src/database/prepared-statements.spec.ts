import type { DataSource } from 'typeorm';
import { MAX_PREPARED_STATEMENTS, PreparedStatements, STATEMENT_BUDGETS } from './prepared-statements';

/** A pool that records the statement names it is asked to run (the naming rule is pure logic). */
function recordingStatements(preparedStatements = true) {
  const names: (string | undefined)[] = [];
  const pool = { query: async (config: { name?: string }) => (names.push(config.name), { command: 'SELECT', rows: [], rowCount: 0 }) };
  const dataSource = { driver: { master: pool } } as unknown as DataSource;
  const statements = new PreparedStatements(dataSource, { preparedStatements } as never);
  return { statements, names };
}

describe(PreparedStatements.name, () => {
  it('names a text once and reuses the name; unnamed when prepared statements are off', async () => {
    const { statements, names } = recordingStatements();
    await statements.query('SELECT 1');
    await statements.query('SELECT 1');
    await statements.query('SELECT 2');
    expect(names[0]).toMatch(/^q_[0-9a-f]{20}$/);
    expect(names[1]).toBe(names[0]);
    expect(names[2]).not.toBe(names[0]);
    const off = recordingStatements(false);
    await off.statements.query('SELECT 1');
    expect(off.names).toEqual([undefined]);
  });

  it('keeps a family of client-chosen shapes within its own budget, so it cannot use up the names others need', async () => {
    const { statements, names } = recordingStatements();
    const budget = STATEMENT_BUDGETS.resolve;
    for (let i = 0; i < budget + 10; i++) await statements.query(`SELECT ${i} AS resolve_shape`, [], 'resolve');
    expect(names.slice(0, budget).every((name) => name !== undefined)).toBe(true);
    expect(names.slice(budget)).toEqual(Array(10).fill(undefined));
    // A shape named before the budget ran out stays named; other statements are still named.
    await statements.query('SELECT 0 AS resolve_shape', [], 'resolve');
    await statements.query('SELECT now()');
    expect(names.slice(-2).every((name) => name !== undefined)).toBe(true);
    expect(budget).toBeLessThan(MAX_PREPARED_STATEMENTS);
  });
});
