import { LifecycleState } from '../src/health/lifecycle.state';
import { expectProblem } from './support/problem';
import { createTestApp, type TestApp } from './support/test-app';

describe('health', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('health');
  });
  afterAll(() => sut.close());

  it('GET /health reports the database check', async () => {
    const response = await sut.http.get('/health').expect(200);
    expect(response.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, pool: { status: 'up', max: 10 } } });
  });

  it('GET /health/live does not touch the database', async () => {
    const response = await sut.http.get('/health/live').expect(200);
    expect(response.body.details).toEqual({ process: expect.objectContaining({ status: 'up' }) });
  });

  it('GET /health/ready checks lifecycle, database and migrations', async () => {
    const response = await sut.http.get('/health/ready').expect(200);
    expect(Object.keys(response.body.details).sort()).toEqual(['database', 'lifecycle', 'migrations', 'pool']);
    expect(response.body.details.pool).toEqual({ status: 'up', total: expect.any(Number), idle: expect.any(Number), waiting: 0, max: 10 });
  });

  // Last: it leaves the app closing.
  it('once the server is closing, a request on a still-open connection gets a 503 problem and the connection closes', async () => {
    sut.app.get(LifecycleState).beginClosing();
    const response = await sut.http.get('/models');
    expect(expectProblem(response, 503, 'service-unavailable').detail).toContain('shutting down');
    expect(response.headers['retry-after']).toBe('5');
    expect(response.headers.connection).toBe('close');
  });
});
