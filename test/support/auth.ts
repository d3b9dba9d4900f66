import type TestAgent from 'supertest/lib/agent';

/** An admin key accepted from configuration (AUTH_BOOTSTRAP_KEY) in security suites. */
export const BOOTSTRAP_KEY = 'test-bootstrap-key-0123456789abcdef-0123456789';

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Environment for an app with authentication on. */
export function authEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { AUTH_REQUIRED: 'true', AUTH_BOOTSTRAP_KEY: BOOTSTRAP_KEY, ...extra };
}

export interface CreatedKey {
  id: number;
  key: string;
  prefix: string;
  [field: string]: unknown;
}

/** Creates an API key with the bootstrap key; fails the test on anything but 201. */
export async function createKey(http: TestAgent, body: { name?: string; scopes: string[]; models?: string[]; expires_at?: string }): Promise<CreatedKey> {
  const response = await http
    .post('/api-keys')
    .set(bearer(BOOTSTRAP_KEY))
    .send({ name: body.name ?? `key-${body.scopes.join('+')}`, ...body });
  if (response.status !== 201) throw new Error(`POST /api-keys answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body as CreatedKey;
}
