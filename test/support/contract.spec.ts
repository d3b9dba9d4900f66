import { ContractValidator, type ObservedResponse } from './contract';

const document = {
  openapi: '3.0.0',
  paths: {
    '/things': {
      post: {
        operationId: 'createThing',
        parameters: [{ name: 'dry_run', in: 'query', schema: { type: 'boolean' } }],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/NewThing' } } } },
        responses: { '201': { description: 'Created.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } } },
      },
    },
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
        responses: {
          '200': {
            description: 'The thing.',
            headers: { ETag: { $ref: '#/components/headers/ETag' } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
          '304': { $ref: '#/components/responses/NotModified' },
          '404': { $ref: '#/components/responses/NotFound' },
        },
      },
    },
    '/things/special': {
      get: { operationId: 'getSpecial', responses: { '204': { description: 'Nothing.' } } },
    },
  },
  components: {
    headers: { ETag: { required: true, schema: { type: 'string' } } },
    responses: {
      NotModified: { description: 'Not modified.', headers: { ETag: { $ref: '#/components/headers/ETag' } } },
      NotFound: { description: 'Missing.', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/NotFoundProblem' } } } },
    },
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'integer' }, note: { type: 'string', nullable: true }, parts: { type: 'array', items: { $ref: '#/components/schemas/Part' } } },
        required: ['id', 'note'],
      },
      NewThing: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' } }, required: ['name'], additionalProperties: false },
      Part: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      NotFoundProblem: { type: 'object', properties: { code: { type: 'string', enum: ['not-found'] }, detail: { type: 'string' } }, required: ['code'] },
    },
  },
};

const ok = (overrides: Partial<ObservedResponse> = {}): ObservedResponse => ({
  method: 'GET',
  url: '/things/1',
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', etag: '"x"' },
  text: JSON.stringify({ id: 1, note: null, parts: [{ name: 'a' }] }),
  ...overrides,
});

describe(ContractValidator.name, () => {
  const sut = new ContractValidator(document);

  it('accepts a response that matches its operation', () => {
    expect(sut.check(ok())).toEqual([]);
    expect(sut.check(ok({ url: 'http://127.0.0.1:3000/things/1/' }))).toEqual([]);
  });

  it('rejects a status the operation does not document', () => {
    expect(sut.check(ok({ status: 409 }))).toEqual([expect.stringContaining('status 409 is not documented for getThing')]);
  });

  it('rejects a field the schema does not declare, at any depth', () => {
    expect(sut.check(ok({ text: JSON.stringify({ id: 1, note: 'n', extra: true }) }))).toEqual([expect.stringContaining('(extra)')]);
    expect(sut.check(ok({ text: JSON.stringify({ id: 1, note: 'n', parts: [{ name: 'a', size: 2 }] }) }))).toEqual([expect.stringContaining('(size)')]);
  });

  it('rejects a wrong type, a missing required field and a non-JSON body', () => {
    expect(sut.check(ok({ text: JSON.stringify({ id: '1', note: null }) }))).toEqual([expect.stringContaining('body/id must be integer')]);
    expect(sut.check(ok({ text: JSON.stringify({ id: 1 }) }))).toEqual([expect.stringContaining("must have required property 'note'")]);
    expect(sut.check(ok({ text: '<html>' }))).toEqual([expect.stringContaining('not JSON')]);
  });

  it('rejects a missing documented header and an undocumented media type', () => {
    expect(sut.check(ok({ headers: { 'content-type': 'application/json' } }))).toEqual([expect.stringContaining('header ETag')]);
    expect(sut.check(ok({ headers: { 'content-type': 'text/html', etag: '"x"' } }))).toEqual([expect.stringContaining('Content-Type text/html is not documented')]);
  });

  it('requires a bodiless response to carry neither a body nor a Content-Type (304 through a $ref)', () => {
    expect(sut.check(ok({ status: 304, headers: { etag: '"x"' }, text: '' }))).toEqual([]);
    expect(sut.check(ok({ status: 304, headers: { etag: '"x"', 'content-type': 'application/json' }, text: '' }))).toEqual([
      expect.stringContaining('no body, but Content-Type is application/json'),
    ]);
    expect(sut.check(ok({ status: 304, headers: { etag: '"x"' }, text: '{}' }))).toEqual([expect.stringContaining('one was sent')]);
  });

  it('validates problem bodies through shared responses', () => {
    const problem = { status: 404, headers: { 'content-type': 'application/problem+json' } };
    expect(sut.check(ok({ ...problem, text: JSON.stringify({ code: 'not-found', detail: 'x' }) }))).toEqual([]);
    expect(sut.check(ok({ ...problem, text: JSON.stringify({ code: 'conflict' }) }))).toEqual([expect.stringContaining('body/code must be equal to one of the allowed values')]);
  });

  it('prefers a static segment to a parameter, as the router does', () => {
    expect(sut.check(ok({ url: '/things/special', status: 204, headers: {}, text: '' }))).toEqual([]);
  });

  it('accepts only a route-not-found problem where no operation matches, and ignores /docs', () => {
    const notFound = { status: 404, headers: { 'content-type': 'application/problem+json' }, text: JSON.stringify({ code: 'route-not-found' }) };
    expect(sut.check(ok({ url: '/nothing', ...notFound }))).toEqual([]);
    expect(sut.check(ok({ method: 'DELETE', url: '/things/1', ...notFound }))).toEqual([]);
    expect(sut.check(ok({ url: '/nothing', status: 200 }))).toEqual([expect.stringContaining('no operation of the document serves GET /nothing')]);
    expect(sut.check(ok({ url: '/docs-json', status: 200, text: '{}' }))).toEqual([]);
  });

  it('checks HEAD against the GET operation, without a body', () => {
    expect(sut.check(ok({ method: 'HEAD', text: '' }))).toEqual([]);
    expect(sut.check(ok({ method: 'HEAD', status: 500, text: '' }))).toEqual([expect.stringContaining('status 500 is not documented')]);
  });

  it('requires the document to accept what the server accepted (2xx): body, query and path', () => {
    const created = ok({ method: 'POST', url: '/things?dry_run=true', status: 201, headers: { 'content-type': 'application/json' } });
    expect(sut.check({ ...created, requestBody: { name: 'thing' } })).toEqual([]);
    expect(sut.check({ ...created, requestBody: { name: 'Thing1' } })).toEqual([expect.stringContaining('the server accepted a request body the document rejects: body/name must match pattern')]);
    expect(sut.check({ ...created, url: '/things?dry_run=maybe', requestBody: { name: 'thing' } })).toEqual([expect.stringContaining('query parameter dry_run="maybe"')]);
    expect(sut.check({ ...created, url: '/things?force=1', requestBody: { name: 'thing' } })).toEqual([expect.stringContaining('query parameter force, which the document does not declare')]);
    expect(sut.check(ok({ url: '/things/0' }))).toEqual([expect.stringContaining('path parameter id="0"')]);
    // A rejected request says nothing about the document's request schemas.
    expect(sut.check({ ...created, status: 409, requestBody: { name: 'Thing1' } })).toEqual([expect.stringContaining('status 409 is not documented')]);
  });

  it('throws naming the request and every violation', () => {
    expect(() => sut.assert(ok({ status: 418 }))).toThrow(/Contract violation: GET \/things\/1 → 418 does not match openapi.json:\n- status 418/);
  });
});
