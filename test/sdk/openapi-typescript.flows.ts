// The brief's flows written against what openapi-typescript (default flags) and openapi-fetch
// generate from openapi.json, as a new SDK user would write them: strict TypeScript, no casts, no
// `any`, no non-null assertions (eslint and tsc enforce it: `npm run lint`). test/sdk-flows.e2e-spec.ts
// runs it against the service.
import createClient from 'openapi-fetch';
import type { paths } from './generated/openapi-typescript/schema';
import { type FlowReport, type FlowOptions, expectStatus, statusOf } from './flow-report';

export async function runOpenApiTypescriptFlows({ baseUrl, fetch, name, token }: FlowOptions): Promise<FlowReport> {
  const api = createClient<paths>({ baseUrl, fetch, headers: { Authorization: `Bearer ${token}` } });
  const report: FlowReport = { statuses: {}, problems: {} };

  const model = await api.POST('/models', { body: { name, task: 'generation', description: 'Generated client check' } });
  if (!model.data) throw new Error(`createModel: ${statusOf(model)}`);
  report.statuses.createModel = statusOf(model);
  const modelId = model.data.id;

  const registration = { model_id: modelId, hash: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd', version: '1.0.0', cost_per_1k: 0.01, eval_score: 0.9 };
  const version = await api.POST('/versions', { body: registration });
  if (!version.data) throw new Error(`createVersion: ${statusOf(version)}`);
  report.statuses.createVersion = statusOf(version);
  const again = await api.POST('/versions', { body: registration });
  if (again.data?.id !== version.data.id) throw new Error('re-registering answered another version');
  report.statuses.reRegisterVersion = statusOf(again);
  const versionId = version.data.id;

  const binding = await api.POST('/bindings', { body: { version_id: versionId, provider: 'openai', provider_model_id: 'gpt-4-0125-preview', config: { temperature: 0.7 } } });
  if (!binding.data) throw new Error(`createBinding: ${statusOf(binding)}`);
  report.statuses.createBinding = statusOf(binding);

  const alias = await api.PUT('/models/{id}/aliases/{alias}', { params: { path: { id: modelId, alias: 'production' } }, body: { version_id: versionId } });
  report.statuses.setModelAlias = statusOf(alias);

  const resolved = await api.GET('/resolve/{model_name}', { params: { path: { model_name: name }, query: { provider: 'openai' } } });
  if (!resolved.data) throw new Error(`resolveModel: ${statusOf(resolved)}`);
  report.statuses.resolveModel = statusOf(resolved);
  report.resolvedVersionId = resolved.data.version.id;
  const etag = resolved.response?.headers.get('etag') ?? '';
  const cached = await api.GET('/resolve/{model_name}', { params: { path: { model_name: name }, query: { provider: 'openai' }, header: { 'If-None-Match': etag } } });
  report.statuses.resolveModelNotModified = statusOf(cached);

  const usage = await api.POST('/bindings/{id}/usage', { params: { path: { id: binding.data.id } }, body: { latency_ms: 420, success: true } });
  report.statuses.reportBindingUsage = statusOf(usage);

  const retention = await api.POST('/retention/apply', { body: { model_id: modelId, dry_run: true } });
  if (!retention.data) throw new Error(`applyRetention: ${statusOf(retention)}`);
  report.statuses.applyRetention = statusOf(retention);

  const stats = await api.GET('/stats', { params: { query: { model_id: modelId } } });
  if (!stats.data) throw new Error(`getStats: ${statusOf(stats)}`);
  report.statuses.getStats = statusOf(stats);

  const page = await api.GET('/versions', { params: { query: { model_id: modelId, limit: 10, sort: '-version' } } });
  if (!page.data) throw new Error(`listVersions: ${statusOf(page)}`);
  report.listed = page.data.items.map((item) => item.version);

  const missing = await api.GET('/models/{id}', { params: { path: { id: 987654321 } } });
  if (missing.error?.code === 'not-found') report.problems.notFound = missing.error.resource ?? '';
  expectStatus(missing, 404);

  const duplicate = await api.POST('/models', { body: { name, task: 'generation' } });
  if (duplicate.error?.code === 'conflict') report.problems.conflict = duplicate.error.errors?.[0]?.field ?? '';
  expectStatus(duplicate, 409);

  const stale = await api.PUT('/models/{id}', { params: { path: { id: modelId }, header: { 'If-Match': '"stale"' } }, body: { description: 'mine' } });
  if (stale.error?.code === 'precondition-failed') report.problems.preconditionFailed = stale.error.current_etag;
  expectStatus(stale, 412);

  const removed = await api.DELETE('/bindings/{id}', { params: { path: { id: binding.data.id } } });
  report.statuses.deleteBinding = statusOf(removed);
  return report;
}
