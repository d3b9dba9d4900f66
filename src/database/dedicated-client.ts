import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { DIRECT_SERVER_OPTION, type PoolExtra } from './data-source.options';

/** The connection fields of a postgres DataSource's options (TypeORM does not export the type). */
interface PostgresConnectionFields {
  host?: string;
  port?: number;
  username?: string;
  password?: unknown;
  database?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  applicationName?: string;
  connectTimeoutMS?: number;
  extra?: PoolExtra;
}

/**
 * A connection outside the pool, for whatever needs a server session of its own: a session-level
 * advisory lock held while the work itself uses the pool (with a pool of size 1, a lock held on a
 * pooled connection would starve the work), LISTEN. It goes to the direct server address
 * (POSTGRES_DIRECT_HOST / POSTGRES_DIRECT_PORT), not through a transaction-pooling PgBouncer, where
 * consecutive statements of one client may run on different server sessions: a lock taken by one
 * would be released by none, and notifications would go to whichever session last ran LISTEN.
 */
export async function openDedicatedClient(dataSource: DataSource, purpose: string): Promise<Client> {
  const options = dataSource.options as PostgresConnectionFields;
  const direct = options.extra?.[DIRECT_SERVER_OPTION];
  const client = new Client({
    host: direct?.host ?? options.host,
    port: direct?.port ?? options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl,
    application_name: `${options.applicationName ?? 'model-registry'}:${purpose}`,
    connectionTimeoutMillis: options.connectTimeoutMS,
  });
  // A dropped connection must not crash the process (the lock dies with it; see withTryAdvisoryLock).
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Runs `work` while holding the advisory lock `key`, or returns `{ acquired: false }` at once if another
 * session holds it. The lock is released when the work ends. If the lock's connection dies, the lock is
 * gone: `signal` is aborted, and the work must stop at its next check.
 */
export async function withTryAdvisoryLock<T>(
  dataSource: DataSource,
  key: bigint,
  purpose: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ acquired: true; result: T } | { acquired: false }> {
  const client = await openDedicatedClient(dataSource, purpose);
  const lost = new AbortController();
  const onLost = () => lost.abort(new Error(`the ${purpose} lock's database connection was lost`));
  client.on('error', onLost);
  client.on('end', onLost);
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key.toString()]);
    if (!rows[0].locked) return { acquired: false };
    try {
      return { acquired: true, result: await work(lost.signal) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key.toString()]).catch(() => undefined);
    }
  } finally {
    client.off('end', onLost);
    await client.end().catch(() => undefined);
  }
}
