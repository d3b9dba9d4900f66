import type { Response } from 'supertest';

/** Asserts the whole RFC 9457 contract of an error response and returns its body. */
export function expectProblem(response: Response, status: number, code: string) {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toEqual(
    expect.objectContaining({
      type: `/problems/${code}`,
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance: expect.stringMatching(/^\//),
      request_id: response.headers['x-request-id'],
    }),
  );
  const text = JSON.stringify(response.body);
  // Nothing from the inside ever reaches a client.
  expect(text).not.toMatch(/QueryFailedError|SELECT |INSERT |UPDATE |DELETE FROM|violates|duplicate key|\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
  return response.body as { detail: string; errors?: { field: string; message: string }[]; [key: string]: unknown };
}
