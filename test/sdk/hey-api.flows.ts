// The brief's flows written against what @hey-api/openapi-ts (default settings) generates from
// openapi.json: strict TypeScript, no casts, no `any`, no non-null assertions (`npm run lint`
// enforces it). test/sdk-flows.e2e-spec.ts runs it against the service.
import { createClient, createConfig } from './generated/hey-api/client';
import {
  applyRetention,
  createBinding,
  createModel,
  createVersion,
  deleteBinding,
  getModel,
  getStats,
  listVersions,
  reportBindingUsage,
  resolveModel,
  setModelAlias,
  updateModel,
} from './generated/hey-api/sdk.gen';
import { type FlowReport, type FlowOptions, expectStatus, statusOf } from './flow-report';

export async function runHeyApiFlows({ baseUrl, fetch, name, token }: FlowOptions): Promise<FlowReport> {
  const client = createClient(createConfig({ baseUrl, fetch, auth: token }));
  const report: FlowReport = { statuses: {}, problems: {} };

  const model = await createModel({ client, body: { name, task: 'generation', description: 'Generated client check' } });
  if (!model.data) throw new Error(`createModel: ${statusOf(model)}`);
  report.statuses.createModel = statusOf(model);
  const modelId = model.data.id;

  const registration = { model_id: modelId, hash: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd', version: '1.0.0', cost_per_1k: 0.01, eval_score: 0.9 };
  const version = await createVersion({ client, body: registration });
  if (!version.data) throw new Error(`createVersion: ${statusOf(version)}`);
  report.statuses.createVersion = statusOf(version);
  const again = await createVersion({ client, body: registration });
  if (again.data?.id !== version.data.id) throw new Error('re-registering answered another version');
  report.statuses.reRegisterVersion = statusOf(again);
  const versionId = version.data.id;

  const binding = await createBinding({ client, body: { version_id: versionId, provider: 'openai', provider_model_id: 'gpt-4-0125-preview', config: { temperature: 0.7 } } });
  if (!binding.data) throw new Error(`createBinding: ${statusOf(binding)}`);
  report.statuses.createBinding = statusOf(binding);

  const alias = await setModelAlias({ client, path: { id: modelId, alias: 'production' }, body: { version_id: versionId } });
  report.statuses.setModelAlias = statusOf(alias);

  const resolved = await resolveModel({ client, path: { model_name: name }, query: { provider: 'openai' } });
  if (!resolved.data) throw new Error(`resolveModel: ${statusOf(resolved)}`);
  report.statuses.resolveModel = statusOf(resolved);
  report.resolvedVersionId = resolved.data.version.id;
  const etag = resolved.response?.headers.get('etag') ?? '';
  const cached = await resolveModel({ client, path: { model_name: name }, query: { provider: 'openai' }, headers: { 'If-None-Match': etag } });
  report.statuses.resolveModelNotModified = statusOf(cached);

  const usage = await reportBindingUsage({ client, path: { id: binding.data.id }, body: { latency_ms: 420, success: true } });
  report.statuses.reportBindingUsage = statusOf(usage);

  const retention = await applyRetention({ client, body: { model_id: modelId, dry_run: true } });
  if (!retention.data) throw new Error(`applyRetention: ${statusOf(retention)}`);
  report.statuses.applyRetention = statusOf(retention);

  const stats = await getStats({ client, query: { model_id: modelId } });
  if (!stats.data) throw new Error(`getStats: ${statusOf(stats)}`);
  report.statuses.getStats = statusOf(stats);

  const page = await listVersions({ client, query: { model_id: modelId, limit: 10, sort: '-version' } });
  if (!page.data) throw new Error(`listVersions: ${statusOf(page)}`);
  report.listed = page.data.items.map((item) => item.version);

  const missing = await getModel({ client, path: { id: 987654321 } });
  if (missing.error?.code === 'not-found') report.problems.notFound = missing.error.resource ?? '';
  expectStatus(missing, 404);

  const duplicate = await createModel({ client, body: { name, task: 'generation' } });
  if (duplicate.error?.code === 'conflict') report.problems.conflict = duplicate.error.errors?.[0]?.field ?? '';
  expectStatus(duplicate, 409);

  const stale = await updateModel({ client, path: { id: modelId }, headers: { 'If-Match': '"stale"' }, body: { description: 'mine' } });
  if (stale.error?.code === 'precondition-failed') report.problems.preconditionFailed = stale.error.current_etag;
  expectStatus(stale, 412);

  const removed = await deleteBinding({ client, path: { id: binding.data.id } });
  report.statuses.deleteBinding = statusOf(removed);
  return report;
}
