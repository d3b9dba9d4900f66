/**
 * The floor: a minimal node:http + pg server answering the load benchmark's endpoints with the same
 * SQL as the service, as named prepared statements, and no framework, validation, error model or
 * telemetry. What the service achieves relative to it is the cost of everything the service adds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'pg';
import '../../src/database/pg-types';
import { APPLY_USAGE_SQL, applyUsageParams } from '../../src/bindings/bindings.repository';
import { ewmaUpdate } from '../../src/bindings/usage';
import { MODEL_BY_ID_SQL, MODEL_BY_NAME_SQL } from '../../src/models/models.repository';
import { parseSelector } from '../../src/common/labels/selector';
import { resolveStatement, type ResolveRequest } from '../../src/resolve/resolve.repository';
import { EXTREMES_SQL } from '../../src/stats/stats.repository';
import { COUNTERS_SQL } from '../../src/database/registry-counters';
import { parseSemVer, semverSortKey } from '../../src/common/semver';
import { artifactKey } from '../../src/config/artifact-uri';
import { INSERT_VERSION_SQL, insertVersionParams, versionListQuery } from '../../src/versions/versions.repository';

const pool = new Pool({
  host: process.env.POSTGRES_HOST,
  port: Number(process.env.POSTGRES_PORT),
  user: process.env.POSTGRES_USER,
  password: process.env.POSTGRES_PASSWORD || undefined,
  database: process.env.POSTGRES_DB,
  max: Number(process.env.DB_POOL_SIZE ?? 10),
});
let statements = 0;
const names = new Map<string, string>();
const run = async (text: string, values: unknown[]) => {
  let name = names.get(text);
  if (!name) names.set(text, (name = `f${++statements}`));
  return (await pool.query({ name, text, values })).rows;
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<any> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return JSON.parse(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://floor');
  const parts = url.pathname.split('/').filter(Boolean);
  if (req.method === 'GET' && parts[0] === 'resolve') {
    const query = url.searchParams;
    const selector = (name: string) => (query.has(name) ? parseSelector(query.get(name)!) : undefined);
    const request: ResolveRequest = query.has('alias')
      ? { modelName: decodeURIComponent(parts[1]), mode: 'latest', requireSlo: false }
      : { modelName: decodeURIComponent(parts[1]), mode: 'default', alias: 'production', requireSlo: false };
    const statement = resolveStatement({
      ...request,
      selector: selector('selector'),
      bindingSelector: selector('binding_selector'),
      capabilities: query.get('capability')?.split(','),
      maxInputCostPer1m: query.has('max_input_cost_per_1m') ? Number(query.get('max_input_cost_per_1m')) : undefined,
    });
    const rows = await run(statement.text, statement.values);
    return send(res, rows[0]?.id ? 200 : 404, rows[0] ?? {});
  }
  if (req.method === 'GET' && parts[0] === 'models' && parts[1] === 'name') {
    const rows = await run(MODEL_BY_NAME_SQL, [decodeURIComponent(parts[2])]);
    return send(res, rows[0] ? 200 : 404, rows[0] ?? {});
  }
  if (req.method === 'GET' && parts[0] === 'models') {
    const rows = await run(MODEL_BY_ID_SQL, [Number(parts[1])]);
    return send(res, rows[0] ? 200 : 404, rows[0] ?? {});
  }
  if (req.method === 'GET' && parts[0] === 'versions') {
    const limit = Number(url.searchParams.get('limit') ?? 20);
    const query = versionListQuery({ model_id: Number(url.searchParams.get('model_id')) }, '-created_at', limit, undefined);
    const rows = await run(query.sql, query.params);
    return send(res, 200, { items: rows.slice(0, limit), next_page_token: null });
  }
  if (req.method === 'POST' && parts[0] === 'versions') {
    const body = await readBody(req);
    const artifact_key = typeof body.artifact_uri === 'string' ? artifactKey(body.artifact_uri) : null;
    const rows = await run(INSERT_VERSION_SQL, insertVersionParams({ ...body, artifact_key, version_sort_key: semverSortKey(parseSemVer(body.version)!) }));
    return send(res, rows[0] ? 201 : 200, rows[0] ?? {});
  }
  if (req.method === 'POST' && parts[0] === 'bindings') {
    const body = await readBody(req);
    const rows = await run(APPLY_USAGE_SQL, applyUsageParams(Number(parts[1]), ewmaUpdate(0.1, [body.latency_ms]), ewmaUpdate(0.1, [body.success ? 1 : 0])!, 1));
    return send(res, rows[0] ? 200 : 404, rows[0] ?? {});
  }
  if (req.method === 'GET' && parts[0] === 'stats') {
    const [counters, extremes] = await Promise.all([run(COUNTERS_SQL, [['models.%', 'versions.%', 'bindings.%']]), run(EXTREMES_SQL, [])]);
    return send(res, 200, { counters, extremes: extremes[0] });
  }
  send(res, 404, {});
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
