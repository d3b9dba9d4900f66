import fc from 'fast-check';
import type { Labels } from '../../src/common/labels/label-rules';
import type { Requirement } from '../../src/common/labels/selector';

/** Small alphabets, so random selectors and random label sets actually meet. */
export const LABEL_KEYS = ['env', 'tier', 'example.com/team', 'x'];
export const LABEL_VALUES = ['prod', 'dev', 'a', ''];

export const labelsArbitrary: fc.Arbitrary<Labels> = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.constantFrom(...LABEL_VALUES), { maxKeys: LABEL_KEYS.length });

const requirementArbitrary: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...LABEL_KEYS), operator: fc.constantFrom('=' as const, '!=' as const), values: fc.constantFrom(...LABEL_VALUES).map((v) => [v]) }),
  fc.record({
    key: fc.constantFrom(...LABEL_KEYS),
    operator: fc.constantFrom('in' as const, 'notin' as const),
    values: fc.uniqueArray(fc.constantFrom(...LABEL_VALUES), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key: fc.constantFrom(...LABEL_KEYS), operator: fc.constantFrom('exists' as const, '!exists' as const), values: fc.constant([] as string[]) }),
);

export const selectorArbitrary: fc.Arbitrary<Requirement[]> = fc.array(requirementArbitrary, { maxLength: 4 });
