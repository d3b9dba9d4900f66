import { Client, Pool, types, type PoolClient } from 'pg';
import '../src/database/pg-types';
import { PreparedQuery, type QueryResult } from '../src/database/prepared-query';
import { createSuiteDatabase, dropDatabase, testServer } from './setup/test-database';

/** The connection pg's Client writes to, with a count of the Describe messages sent. */
function countDescribes(client: PoolClient | Client): () => number {
  const connection = (client as unknown as { connection: { describe: (...args: unknown[]) => void } }).connection;
  const describe = connection.describe.bind(connection);
  let count = 0;
  connection.describe = (...args: unknown[]) => {
    count++;
    describe(...args);
  };
  return () => count;
}

/** Runs a PreparedQuery as the service does: through a pool (which promises), or on one client (a callback). */
function run(on: PoolClient | Client | Pool, text: string, values: unknown[] = [], name?: string): Promise<QueryResult> {
  const query = new PreparedQuery(text, values, name);
  if (on instanceof Pool) return (on as unknown as { query: (query: PreparedQuery) => Promise<QueryResult> }).query(query);
  return new Promise((resolve, reject) => {
    (on as unknown as { query: (query: PreparedQuery, callback: (error: Error | null, result?: QueryResult) => void) => void }).query(query, (error, result) =>
      error ? reject(error) : resolve(result!),
    );
  });
}

/** What pg's own Query gives for the same statement (named when `name` is given). */
async function viaPg(client: PoolClient | Client, text: string, values: unknown[] = [], name?: string): Promise<QueryResult> {
  const result = await client.query(name ? { name: `pg_${name}`, text, values } : { text, values });
  return { command: result.command, rowCount: result.rowCount, rows: result.rows };
}

/**
 * PreparedQuery, the pg custom query every repository read and write outside a transaction goes
 * through, against a real PostgreSQL: the same rows, types, counts and errors as pg's own Query, and
 * a named statement described once per connection.
 */
describe(PreparedQuery.name, () => {
  let database: string;
  let pool: Pool;

  beforeAll(async () => {
    database = await createSuiteDatabase('prepared-query', { empty: true });
    pool = new Pool({ ...testServer(), database, max: 2 });
    await pool.query(`CREATE TABLE things (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, cost numeric, tags text[], labels jsonb,
                                          at timestamptz, ok boolean, size int8, ratio float8, note text)`);
  });

  afterAll(async () => {
    await pool.end();
    await dropDatabase(database);
  });

  it('gives the rows, types, command and row count pg gives, named and unnamed', async () => {
    const client = await pool.connect();
    try {
      const insert = `INSERT INTO things (name, cost, tags, labels, at, ok, size, ratio, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`;
      const values = ['a', 0.125, ['x', 'y "z"', null], { team: 'core', n: [1, 2] }, new Date('2026-01-02T03:04:05.678Z'), true, 9_007_199_254_740_991, 1.5, null];
      const inserted = await run(client, insert, values, 'insert_thing');
      expect(inserted.command).toBe('INSERT');
      expect(inserted.rowCount).toBe(1);
      expect(inserted.rows).toEqual([
        {
          id: 1,
          name: 'a',
          cost: 0.125,
          tags: ['x', 'y "z"', null],
          labels: { team: 'core', n: [1, 2] },
          at: new Date('2026-01-02T03:04:05.678Z'),
          ok: true,
          size: 9_007_199_254_740_991,
          ratio: 1.5,
          note: null,
        },
      ]);
      await run(client, insert, ['b', null, [], {}, new Date(0), false, 0, -0.5, 'n'], 'insert_thing');

      const queries: [string, unknown[]][] = [
        ['SELECT * FROM things ORDER BY id', []],
        ['SELECT id, name, id AS name FROM things WHERE id = $1', [2]],
        ['SELECT * FROM things WHERE name = $1', ['missing']],
        ['UPDATE things SET note = $1 WHERE id > $2', ['changed', 0]],
        ["SELECT count(*) AS n, now() - now() AS zero, '1.5'::numeric AS num, ARRAY[1,2]::int8[] AS ids", []],
        ['DELETE FROM things WHERE name = $1', ['nobody']],
      ];
      for (const [index, [text, params]] of queries.entries()) {
        for (const name of [`q${index}`, undefined]) {
          // Twice named: the second execution runs without a Describe.
          for (let round = 0; round < 2; round++) {
            const ours = await run(client, text, params, name);
            const theirs = await viaPg(client, text, params, name);
            expect(ours).toEqual(theirs);
            expect(Object.keys(ours.rows[0] ?? {})).toEqual(Object.keys(theirs.rows[0] ?? {}));
          }
        }
      }
    } finally {
      client.release();
    }
  });

  it('keeps a column named __proto__ an own property, as pg does, never the row\'s prototype', async () => {
    for (const name of ['proto_named', undefined]) {
      for (let round = 0; round < 2; round++) {
        const { rows } = await run(pool, `SELECT '{"polluted": true}'::jsonb AS "__proto__", $1::int AS x`, [round], name);
        expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
        expect(Object.getOwnPropertyDescriptor(rows[0], '__proto__')?.value).toEqual({ polluted: true });
        expect(Object.keys(rows[0])).toEqual(['__proto__', 'x']);
        expect((rows[0] as { polluted?: unknown }).polluted).toBeUndefined();
      }
    }
  });

  it('describes a named statement once per connection, and every time when unnamed', async () => {
    const client = await pool.connect();
    try {
      const describes = countDescribes(client);
      for (let i = 0; i < 5; i++) expect((await run(client, 'SELECT $1::int + 1 AS n', [i], 'once')).rows).toEqual([{ n: i + 1 }]);
      expect(describes()).toBe(1);
      for (let i = 0; i < 3; i++) expect((await run(client, 'SELECT $1::int + 2 AS n', [i])).rows).toEqual([{ n: i + 2 }]);
      expect(describes()).toBe(4);
      // A statement that returns no rows has no shape to keep: described each time, as pg does.
      await run(client, 'UPDATE things SET note = note WHERE id = $1', [1], 'no_rows');
      await run(client, 'UPDATE things SET note = note WHERE id = $1', [1], 'no_rows');
      expect(describes()).toBe(6);
    } finally {
      client.release();
    }
    // Another connection knows nothing of this one's statements: it parses and describes for itself.
    const other = new Client({ ...testServer(), database });
    await other.connect();
    try {
      const describes = countDescribes(other);
      expect((await run(other, 'SELECT $1::int + 1 AS n', [41], 'once')).rows).toEqual([{ n: 42 }]);
      expect((await run(other, 'SELECT $1::int + 1 AS n', [1], 'once')).rows).toEqual([{ n: 2 }]);
      expect(describes()).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('fails with the database error pg gives, and the connection goes on serving', async () => {
    const client = await pool.connect();
    try {
      const insert = 'INSERT INTO things (name) VALUES ($1) RETURNING id';
      await run(client, insert, ['dup'], 'insert_name');
      const ours = await run(client, insert, ['dup'], 'insert_name').catch((error: unknown) => error);
      const theirs = await viaPg(client, insert, ['dup'], 'insert_name').catch((error: unknown) => error);
      expect(ours).toBeInstanceOf(Error);
      expect(ours).toMatchObject({ code: '23505', constraint: 'things_name_key', table: 'things', detail: 'Key (name)=(dup) already exists.' });
      expect((ours as Error).constructor).toBe((theirs as Error).constructor);
      // A statement that cannot be parsed, then a value that cannot be sent (a circular object).
      await expect(run(client, 'SELEC 1', [], 'typo')).rejects.toMatchObject({ code: '42601' });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(run(client, 'SELECT $1::jsonb AS j', [circular], 'circular')).rejects.toThrow();
      // The same names still work on the same connection afterwards.
      expect((await run(client, 'SELECT $1::jsonb AS j', [{ a: 1 }], 'circular')).rows).toEqual([{ j: { a: 1 } }]);
      expect((await run(client, 'SELECT count(*) AS n FROM things WHERE name = $1', ['dup'], 'count_name')).rows).toEqual([{ n: 1 }]);
    } finally {
      client.release();
    }
  });

  it('fails the query, not the connection, when a row cannot be parsed', async () => {
    const CIRCLE = types.builtins.CIRCLE;
    const original = types.getTypeParser(CIRCLE);
    const client = await pool.connect();
    types.setTypeParser(CIRCLE, () => {
      throw new Error('unparseable circle');
    });
    try {
      await expect(run(client, 'SELECT circle(point(1, 2), 3) AS p, $1::int AS n', [1], 'circle')).rejects.toThrow('unparseable circle');
      await expect(run(client, 'SELECT circle(point(1, 2), 3) AS p, $1::int AS n', [1], 'circle')).rejects.toThrow('unparseable circle');
    } finally {
      types.setTypeParser(CIRCLE, original);
    }
    try {
      expect((await run(client, 'SELECT circle(point(1, 2), 3) AS p, $1::int AS n', [1], 'circle')).rows).toEqual([{ p: original('<(1,2),3>'), n: 1 }]);
    } finally {
      client.release();
    }
  });

  it('refuses a name already used for another text, as pg does', async () => {
    const client = await pool.connect();
    try {
      await run(client, 'SELECT 1 AS one', [], 'taken');
      await expect(run(client, 'SELECT 2 AS two', [], 'taken')).rejects.toThrow(/Prepared statements must be unique/);
      expect((await run(client, 'SELECT 1 AS one', [], 'taken')).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
  });

  it('reports a statement whose result columns changed under it, and describes it anew once it runs again', async () => {
    const client = await pool.connect();
    try {
      await pool.query('CREATE TABLE shifting (a int)');
      await pool.query('INSERT INTO shifting VALUES (1)');
      expect((await run(client, 'SELECT * FROM shifting WHERE a = $1', [1], 'shifting')).rows).toEqual([{ a: 1 }]);
      await pool.query('ALTER TABLE shifting ADD COLUMN b text');
      // PostgreSQL refuses the prepared statement (pg's own Query gets the same error).
      await expect(run(client, 'SELECT * FROM shifting WHERE a = $1', [1], 'shifting')).rejects.toMatchObject({ code: '0A000' });
      await pool.query('ALTER TABLE shifting DROP COLUMN b');
      const describes = countDescribes(client);
      expect((await run(client, 'SELECT * FROM shifting WHERE a = $1', [1], 'shifting')).rows).toEqual([{ a: 1 }]);
      expect(describes()).toBe(1);
    } finally {
      client.release();
    }
  });

  it('serves a pool under concurrency: every answer is its own', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => run(pool, 'SELECT $1::int AS n, $2::text AS s', [i, `s${i}`], 'concurrent')));
    expect(answers.map((answer) => answer.rows)).toEqual(Array.from({ length: 200 }, (_, i) => [{ n: i, s: `s${i}` }]));
  });
});
