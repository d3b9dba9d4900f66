import type { ValidationError } from '@nestjs/common';
import { RequestValidationError } from '../errors/application.error';
import { flattenValidationErrors } from './validation.pipe';
import { isAbsoluteUri, isEndpointUrl } from './validators';

describe('flattenValidationErrors', () => {
  it('gives each nested field a dotted or indexed path and drops the repeated property name', () => {
    const errors: ValidationError[] = [
      { property: 'name', constraints: { matches: 'name must be a slug' }, children: [] },
      { property: 'extra', constraints: { whitelistValidation: 'property extra should not exist' }, children: [] },
      {
        property: 'samples',
        children: [{ property: '2', children: [{ property: 'latency_ms', constraints: { min: 'latency_ms must not be less than 0' }, children: [] }] }],
      },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'name', message: 'must be a slug' },
      { field: 'extra', message: 'is not a known property' },
      { field: 'samples[2].latency_ms', message: 'must not be less than 0' },
    ]);
  });
});

describe('URI validators', () => {
  it.each(['s3://bucket/key', 'gs://b/k', 'file:///var/m.bin', 'https://host/p?q=1', 'az://c/k'])('%s is an absolute URI', (uri) => expect(isAbsoluteUri(uri)).toBe(true));
  it.each(['bucket/key', '/var/m.bin', 's3:/bucket', 'javascript:alert(1)', 'data:text/plain,x', 's3://b/has space', `s3://b/${'k'.repeat(2048)}`, 42])(
    '%s is not',
    (uri) => expect(isAbsoluteUri(uri)).toBe(false),
  );
  it.each(['https://api.openai.com/v1', 'http://localhost:8080', 'http://127.0.0.1/x', 'http://[::1]:1/'])('%s is an endpoint', (url) => expect(isEndpointUrl(url)).toBe(true));
  it.each(['http://api.example.com', 'ftp://x', 'https://u:p@host', 'not a url'])('%s is not an endpoint', (url) => expect(isEndpointUrl(url)).toBe(false));
});

describe('RequestValidationError', () => {
  it('lists a field’s message once, and its detail counts fields, not messages', () => {
    const one = new RequestValidationError([
      { field: 'id', message: 'must be a positive integer' },
      { field: 'id', message: 'must be a positive integer' },
      { field: 'id', message: 'is too large' },
    ]);
    expect(one.errors).toEqual([
      { field: 'id', message: 'must be a positive integer' },
      { field: 'id', message: 'is too large' },
    ]);
    expect(one.detail).toBe('id: must be a positive integer; is too large');
    const two = new RequestValidationError([
      { field: 'a', message: 'x' },
      { field: 'b', message: 'y' },
      { field: 'a', message: 'z' },
    ]);
    expect(two.detail).toBe('2 fields are invalid.');
  });
});
