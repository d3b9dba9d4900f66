import 'reflect-metadata';
import fc from 'fast-check';
import { IdParamDto } from './id-param.dto';
import { createValidationPipe } from './validation.pipe';

const fast = createValidationPipe();
const slow = createValidationPipe({ fastPaths: false });
const metadata = { type: 'param' as const, metatype: IdParamDto, data: undefined };

/** What a pipe makes of `params`: the DTO (with its class) or the error it throws. */
const outcome = (pipe: typeof fast, params: Record<string, unknown>) =>
  pipe.transform(Object.assign(Object.create(null), params), metadata).then(
    (value: object) => ({ value, prototype: Object.getPrototypeOf(value) as unknown }),
    (error: unknown) => ({ error }),
  );

describe('IdParamDto fast path', () => {
  it.each(['1', '42', '0012', '999999999999999'])('accepts %s as class-validator does, with the same DTO', async (id) => {
    const result = await outcome(fast, { id });
    expect(result).toEqual({ value: Object.assign(new IdParamDto(), { id: Number(id) }), prototype: IdParamDto.prototype });
    expect(result).toEqual(await outcome(slow, { id }));
  });

  it.each(['0', '-1', ' 7', '1.5', 'abc', '', '9007199254740993', '1e3'])('leaves %j to class-validator, which gives its usual errors', async (id) => {
    expect(await outcome(fast, { id })).toEqual(await outcome(slow, { id }));
  });

  it('never differs from class-validator (property)', async () => {
    const id = fc.oneof(fc.stringMatching(/^-?\d{0,18}$/), fc.string({ maxLength: 20 }), fc.integer(), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(id, fc.option(fc.dictionary(fc.constantFrom('x', 'name'), fc.string()), { nil: undefined }), async (value, extra) => {
        const params = { ...extra, id: value };
        expect(await outcome(fast, params)).toEqual(await outcome(slow, params));
      }),
      { numRuns: 400 },
    );
  });
});

describe('IdParamDto errors', () => {
  const problem = async (id: string) => {
    const result = await outcome(slow, { id });
    if (!('error' in result)) throw new Error(`${id} was accepted`);
    const { detail, errors } = result.error as { detail: string; errors: unknown };
    return { detail, errors };
  };

  it('say once what is wrong with an id that is not a number, and nothing about its size', async () => {
    expect(await problem('abc')).toEqual({ detail: 'id: must be a positive integer', errors: [{ field: 'id', message: 'must be a positive integer' }] });
    expect(await problem('0')).toEqual({ detail: 'id: must be a positive integer', errors: [{ field: 'id', message: 'must be a positive integer' }] });
  });

  it('say that an integer beyond 2^53 is too large', async () => {
    expect(await problem('99999999999999999')).toEqual({ detail: 'id: is too large', errors: [{ field: 'id', message: 'is too large' }] });
  });
});
