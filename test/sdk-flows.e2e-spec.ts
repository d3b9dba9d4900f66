import * as path from 'node:path';
import type { FlowOptions, FlowReport } from './sdk/flow-report';
import { generateSdks } from './sdk/generate';
import { contractCheckedFetch } from './support/contract';
import { authEnv, BOOTSTRAP_KEY } from './support/auth';
import { createTestApp, type TestApp } from './support/test-app';

type FlowRunner = (options: FlowOptions) => Promise<FlowReport>;

/** A flow program, loaded once its client has been generated (so that type-checking the suite does not need the generated code). */
async function flowRunner(file: string, name: string): Promise<FlowRunner> {
  const program = (await import(path.join(__dirname, 'sdk', file))) as Record<string, FlowRunner>;
  return program[name];
}

/**
 * The outside check's method: clients generated from the committed openapi.json with
 * openapi-typescript (+ openapi-fetch) and @hey-api/openapi-ts, each at its default settings, run the
 * brief's flows against the service with every response checked against the document. The flow
 * programs are plain strict TypeScript without casts (`npm run lint` type-checks them).
 */
describe('clients generated from openapi.json', () => {
  let sut: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    generateSdks();
    // Authentication on, as in production: the generated clients send an API key.
    sut = await createTestApp('sdk-flows', { env: authEnv() });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = await sut.app.getUrl();
  });
  afterAll(() => sut?.close());

  const expected = {
    statuses: {
      createModel: 201,
      createVersion: 201,
      reRegisterVersion: 200,
      createBinding: 201,
      setModelAlias: 201,
      resolveModel: 200,
      resolveModelNotModified: 304,
      reportBindingUsage: 200,
      applyRetention: 200,
      getStats: 200,
      deleteBinding: 204,
    },
    problems: { notFound: 'model', conflict: 'name', preconditionFailed: expect.stringMatching(/^"/) },
    resolvedVersionId: expect.any(Number),
    listed: ['1.0.0'],
  };

  it('openapi-typescript with openapi-fetch', async () => {
    const run = await flowRunner('openapi-typescript.flows', 'runOpenApiTypescriptFlows');
    expect(await run({ baseUrl, fetch: contractCheckedFetch(), name: `sdk-openapi-typescript-${process.pid}`, token: BOOTSTRAP_KEY })).toEqual(expected);
  });

  it('@hey-api/openapi-ts', async () => {
    const run = await flowRunner('hey-api.flows', 'runHeyApiFlows');
    expect(await run({ baseUrl, fetch: contractCheckedFetch(), name: `sdk-hey-api-${process.pid}`, token: BOOTSTRAP_KEY })).toEqual(expected);
  });
});
