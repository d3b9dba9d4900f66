import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type TestAgent from 'supertest/lib/agent';
import type { Response } from 'supertest';

/**
 * The e2e suite as a contract test: every response a test receives is checked against the committed
 * openapi.json — the status is documented for the operation, the documented headers are present, and
 * the body validates (with ajv) against the documented schema, closed: a field the document does not
 * declare is a violation. A violation fails the request's own test. Schemas compile once per worker.
 */

type Json = Record<string, any>;

export interface ObservedResponse {
  method: string;
  /** Path and query, or a full URL. */
  url: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text ('' when there is none). */
  text: string;
  /** The JSON body the request carried, if any: a 2xx answer means the document must accept it too. */
  requestBody?: unknown;
}

const DOCUMENT_FILE = path.resolve(__dirname, '..', '..', 'openapi.json');
const DOCUMENT_ID = 'openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Paths outside the API contract: Swagger UI and the document itself. */
const OUTSIDE_CONTRACT = /^\/docs(?:[-/.]|$)/;

interface Route {
  template: string;
  pattern: RegExp;
  /** Per segment: 0 static, 1 parameter — the router prefers static segments. */
  rank: number[];
  operations: Partial<Record<string, Json>>;
}

const mediaTypeOf = (header: string | string[] | undefined) => (Array.isArray(header) ? header[0] : header)?.split(';')[0].trim().toLowerCase();

/**
 * Response schemas as the server must honour them: every object with declared properties is closed
 * (published schemas stay open so that adding a field is not a breaking change for strict clients).
 * Ajv has no use for `discriminator` mappings (oneOf with a fixed `code` per branch decides alone).
 */
function closed(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closed);
  if (typeof node !== 'object' || node === null) return node;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'discriminator') continue;
    copy[key] = key === '$ref' && typeof value === 'string' && value.startsWith('#/') ? `${DOCUMENT_ID}${value}` : closed(value);
  }
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

export class ContractValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  /** Path and query values arrive as text: checked against their schemas after conversion. */
  private readonly parameterAjv = new Ajv({ strict: false, allErrors: true, coerceTypes: true });
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: DOCUMENT_ID, components: { schemas: closed(document.components?.schemas ?? {}) } });
    this.routes = Object.entries(document.paths as Record<string, Json>)
      .map(([template, item]) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}$`),
        rank: template.split('/').map((segment) => (segment.startsWith('{') ? 1 : 0)),
        operations: Object.fromEntries(METHODS.filter((method) => item[method]).map((method) => [method, item[method]])),
      }))
      .sort((a, b) => {
        for (let i = 0; i < Math.min(a.rank.length, b.rank.length); i++) if (a.rank[i] !== b.rank[i]) return a.rank[i] - b.rank[i];
        return a.rank.length - b.rank.length;
      });
  }

  private resolve(node: Json): Json {
    if (typeof node?.$ref !== 'string') return node;
    const [, , section, name] = (node.$ref as string).split('/');
    return this.resolve(this.document.components[section][name]);
  }

  /**
   * What the server accepted (it answered 2xx) the document must accept too: a schema stricter than
   * the server would make generated clients and validating proxies refuse valid requests.
   */
  private checkAcceptedRequest(operation: Json, template: string, url: URL, requestBody: unknown): string[] {
    const violations: string[] = [];
    const parameters = ((operation.parameters ?? []) as Json[]).map((parameter) => this.resolve(parameter));
    const pathValues = url.pathname.replace(/\/+$/, '').split('/');
    template.split('/').forEach((segment, i) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      const parameter = name && parameters.find((p) => p.in === 'path' && p.name === name);
      if (parameter) violations.push(...this.checkParameter(operation, parameter, decodeURIComponent(pathValues[i] ?? '')));
    });
    for (const name of new Set(url.searchParams.keys())) {
      const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
      if (!parameter) violations.push(`the server accepted query parameter ${name}, which the document does not declare`);
      else violations.push(...this.checkParameter(operation, parameter, url.searchParams.get(name) ?? ''));
    }
    const schema = (this.resolve(operation.requestBody ?? {}) as Json).content?.['application/json']?.schema as Json | undefined;
    if (schema && requestBody !== undefined) {
      const validate = this.validatorFor(`${operation.operationId} request`, schema);
      if (!validate(requestBody)) {
        for (const error of validate.errors ?? []) violations.push(`the server accepted a request body the document rejects: body${error.instancePath} ${error.message}`);
      }
    }
    return violations;
  }

  private checkParameter(operation: Json, parameter: Json, value: string): string[] {
    const key = `${operation.operationId} ${parameter.in} ${parameter.name}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.parameterAjv.compile({ type: 'object', properties: { value: parameter.schema } });
      this.validators.set(key, validate);
    }
    // A non-exploded form array travels as one comma-separated value.
    const asSent = parameter.explode === false && parameter.schema?.type === 'array' ? value.split(',') : value;
    return validate({ value: asSent }) ? [] : [`the server accepted ${parameter.in} parameter ${parameter.name}=${JSON.stringify(value)}, which the document rejects (${validate.errors?.[0]?.message})`];
  }

  private operationFor(method: string, pathname: string): { template: string; operation: Json } | undefined {
    // HEAD is served by every GET route, without a body.
    const lookup = method === 'head' ? 'get' : method;
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
    const route = this.routes.find((candidate) => candidate.operations[lookup] && candidate.pattern.test(path));
    return route && { template: route.template, operation: route.operations[lookup]! };
  }

  private validatorFor(key: string, schema: Json): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(closed(schema) as Json);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** The violations of the contract in one response (empty when it conforms). */
  check(observed: ObservedResponse): string[] {
    const method = observed.method.toLowerCase();
    const pathname = new URL(observed.url, 'http://contract.invalid').pathname;
    if (OUTSIDE_CONTRACT.test(pathname) || method === 'options') return [];
    const contentType = mediaTypeOf(observed.headers['content-type']);
    const found = this.operationFor(method, pathname);
    if (!found) {
      // No operation: the router's own answer, which belongs to no operation of the document.
      let code: unknown;
      try {
        code = (JSON.parse(observed.text) as Json).code;
      } catch {
        code = undefined;
      }
      return observed.status === 404 && contentType === 'application/problem+json' && code === 'route-not-found'
        ? []
        : [`no operation of the document serves ${method.toUpperCase()} ${pathname}, yet the answer is ${observed.status} ${contentType ?? ''} ${code ?? ''} (not a route-not-found problem)`];
    }
    const { operation, template } = found;
    const documented = operation.responses[String(observed.status)] as Json | undefined;
    if (!documented) return [`status ${observed.status} is not documented for ${operation.operationId} (documented: ${Object.keys(operation.responses).join(', ')})`];
    const response = this.resolve(documented);
    const violations: string[] =
      observed.status >= 200 && observed.status < 300 ? this.checkAcceptedRequest(operation, template, new URL(observed.url, 'http://contract.invalid'), observed.requestBody) : [];
    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
      if (this.resolve(header).required && observed.headers[name.toLowerCase()] === undefined) violations.push(`header ${name} is documented as always present but is missing`);
    }
    const content = response.content as Record<string, { schema: Json }> | undefined;
    if (!content) {
      if (contentType !== undefined) violations.push(`the documented response has no body, but Content-Type is ${contentType}`);
      if (observed.text !== '') violations.push(`the documented response has no body, but one was sent (${observed.text.length} bytes)`);
      return violations;
    }
    if (method === 'head') return violations;
    const media = contentType && content[contentType];
    if (!media) return [...violations, `Content-Type ${contentType ?? '(none)'} is not documented for ${observed.status} (documented: ${Object.keys(content).join(', ')})`];
    let body: unknown = observed.text;
    if (/[/+]json$/.test(contentType)) {
      try {
        body = JSON.parse(observed.text);
      } catch {
        return [...violations, `the body is not JSON: ${observed.text.slice(0, 200)}`];
      }
    }
    const validate = this.validatorFor(`${operation.operationId} ${observed.status} ${contentType}`, media.schema);
    if (!validate(body)) {
      for (const error of validate.errors ?? []) {
        const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
        violations.push(`body${error.instancePath || ''} ${error.message}${extra}`);
      }
    }
    return violations;
  }

  /** Throws naming every violation: the error fails the test whose request it was. */
  assert(observed: ObservedResponse): void {
    const violations = this.check(observed);
    if (violations.length === 0) return;
    const pathname = new URL(observed.url, 'http://contract.invalid').pathname;
    throw new Error(
      `Contract violation: ${observed.method.toUpperCase()} ${pathname} → ${observed.status} does not match openapi.json:\n- ${[...new Set(violations)].join('\n- ')}\n` +
        `body: ${observed.text.slice(0, 500)}`,
    );
  }
}

let shared: ContractValidator | undefined;

/** The validator of the committed document, built once per jest worker. */
export function contract(): ContractValidator {
  return (shared ??= new ContractValidator(JSON.parse(readFileSync(DOCUMENT_FILE, 'utf8')) as Json));
}

/** The JSON body a supertest request sent (superagent keeps it in `_data`), if it sent one. */
function sentJson(test: object): unknown {
  const data = (test as { _data?: unknown })._data;
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

const AGENT_METHODS = new Set(['get', 'post', 'put', 'delete', 'del', 'patch', 'head', 'options']);

/** The supertest agent of createTestApp, with every response checked against the contract. */
export function contractChecked(agent: TestAgent): TestAgent {
  return new Proxy(agent, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !AGENT_METHODS.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const test = (value as (...a: unknown[]) => ReturnType<TestAgent['get']>).apply(target, args);
        return test.expect((response: Response) =>
          contract().assert({ method: test.method, url: test.url, status: response.status, headers: response.headers, text: response.text ?? '', requestBody: sentJson(test) }),
        );
      };
    },
  });
}

/** A fetch whose every response is checked against the contract (for clients under test). */
export function contractCheckedFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const sent = await request.clone().text();
    let requestBody: unknown;
    try {
      requestBody = sent === '' ? undefined : (JSON.parse(sent) as unknown);
    } catch {
      requestBody = undefined;
    }
    const response = await base(request.clone());
    const text = response.status === 304 || request.method === 'HEAD' ? '' : await response.clone().text();
    contract().assert({ method: request.method, url: request.url, status: response.status, headers: Object.fromEntries(response.headers), text, requestBody });
    return response;
  };
}
