import 'reflect-metadata';
import fc from 'fast-check';
import { createValidationPipe } from '../../common/validation/validation.pipe';
import { ResolveQueryDto } from './resolve-query.dto';

const fast = createValidationPipe();
const slow = createValidationPipe({ fastPaths: false });
const metadata = { type: 'query' as const, metatype: ResolveQueryDto, data: undefined };

/** What a pipe makes of a query: the DTO (with its class) or the error it throws. */
const outcome = (pipe: typeof fast, query: Record<string, unknown>) =>
  pipe.transform(Object.assign(Object.create(null), query), metadata).then(
    (value: object) => ({ value, prototype: Object.getPrototypeOf(value) as unknown }),
    (error: unknown) => ({ error }),
  );

describe('ResolveQueryDto fast path', () => {
  it.each([{}, { alias: 'latest' }, { alias: 'canary', provider: 'openai', region: 'us-east-1' }, { version: '^1.4' }, { version: '' }])(
    'gives the DTO class-validator gives for %j',
    async (query) => {
      const result = await outcome(fast, query);
      expect(result).toEqual({ value: Object.assign(new ResolveQueryDto(), query), prototype: ResolveQueryDto.prototype });
      expect(result).toEqual(await outcome(slow, query));
    },
  );

  it.each([{ alias: 'Prod' }, { alias: '' }, { provider: 'x'.repeat(65) }, { version: 'v'.repeat(257) }, { alias: ['a', 'b'] }, { unknown: 'x' }, { require_slo: 'true' }])(
    'leaves %j to class-validator, with its usual result',
    async (query) => {
      expect(await outcome(fast, query)).toEqual(await outcome(slow, query));
    },
  );

  it('never differs from class-validator (property)', async () => {
    const text = fc.oneof(
      fc.stringMatching(/^[a-z0-9_-]{0,70}$/),
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.constantFrom('latest', 'production', '1.2.3', '^1', 'US', ' a'),
    );
    const value = fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.array(text, { maxLength: 2 }) });
    const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('alias', 'version', 'provider', 'region') }, { weight: 1, arbitrary: fc.constantFrom('currency', 'require_slo', 'extra') });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value, { maxKeys: 4 }), async (query) => {
        expect(await outcome(fast, query)).toEqual(await outcome(slow, query));
      }),
      { numRuns: 500 },
    );
  });
});
