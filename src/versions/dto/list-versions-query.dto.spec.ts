import 'reflect-metadata';
import fc from 'fast-check';
import { createValidationPipe } from '../../common/validation/validation.pipe';
import { ListVersionsQueryDto } from './list-versions-query.dto';

const fast = createValidationPipe();
const slow = createValidationPipe({ fastPaths: false });
const metadata = { type: 'query' as const, metatype: ListVersionsQueryDto, data: undefined };

/** What a pipe makes of a query: the DTO (with its class) or the error it throws. */
const outcome = (pipe: typeof fast, query: Record<string, unknown>) =>
  pipe.transform(Object.assign(Object.create(null), query), metadata).then(
    (value: object) => ({ value, prototype: Object.getPrototypeOf(value) as unknown }),
    (error: unknown) => ({ error }),
  );

describe('ListVersionsQueryDto fast path', () => {
  it.each([
    [{}, {}],
    [{ model_id: '7', limit: '20' }, { model_id: 7, limit: 20 }],
    [{ limit: '100' }, { limit: 100 }],
    [{ model_id: '0012' }, { model_id: 12 }],
  ])('gives the DTO class-validator gives for %j', async (query, fields) => {
    const result = await outcome(fast, query);
    expect(result).toEqual({ value: Object.assign(new ListVersionsQueryDto(), fields), prototype: ListVersionsQueryDto.prototype });
    expect(result).toEqual(await outcome(slow, query));
  });

  it.each([{ limit: '0' }, { limit: '101' }, { model_id: '-1' }, { model_id: 'x' }, { limit: ['1', '2'] }, { sort: 'version' }, { other: '1' }])(
    'leaves %j to class-validator, with its usual result',
    async (query) => {
      expect(await outcome(fast, query)).toEqual(await outcome(slow, query));
    },
  );

  it('never differs from class-validator (property)', async () => {
    const text = fc.oneof(fc.stringMatching(/^-?\d{0,18}$/), fc.integer({ min: -5, max: 200 }).map(String), fc.string({ maxLength: 8 }));
    const value = fc.oneof({ weight: 6, arbitrary: text }, { weight: 1, arbitrary: fc.array(text, { maxLength: 2 }) });
    const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('model_id', 'limit') }, { weight: 1, arbitrary: fc.constantFrom('region', 'sort', 'page_token', 'extra') });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(key, value, { maxKeys: 3 }), async (query) => {
        expect(await outcome(fast, query)).toEqual(await outcome(slow, query));
      }),
      { numRuns: 500 },
    );
  });
});
