import { createHash } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent';

let sequence = 0;
const next = () => `${process.pid.toString(36)}-${(++sequence).toString(36)}`;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function makeModel(overrides: Record<string, unknown> = {}) {
  return { name: `model-${next()}`, task: 'generation', subject: 'general', description: 'A test model', ...overrides };
}

export function makeVersion(modelId: number, overrides: Record<string, unknown> = {}) {
  const tag = next();
  return {
    model_id: modelId,
    hash: sha256(tag),
    version: `1.0.${sequence}`,
    region: 'us-east-1',
    cost_per_1k: 0.01,
    eval_score: 0.9,
    artifact_uri: `s3://models/test/${tag}/model.bin`,
    ...overrides,
  };
}

export function makeBinding(versionId: number, overrides: Record<string, unknown> = {}) {
  return { version_id: versionId, provider: 'openai', provider_model_id: `pm-${next()}`, status: 'active', config: { temperature: 0.7 }, ...overrides };
}

/** POSTs and returns the created body, failing the test on anything but 201. */
export async function create<T = Record<string, any>>(http: TestAgent, path: string, body: object): Promise<T> {
  const response = await http.post(path).send(body);
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as T;
}
