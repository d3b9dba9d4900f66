import { ValidateBy, type ValidationOptions } from 'class-validator';
import { describeValidator } from '../openapi/validator-schemas';
import { labelsProblems, MAX_LABELS } from './label-rules';
import { MAX_SELECTOR_LENGTH, parseSelector, SelectorSyntaxError } from './selector';

describeValidator('isLabels', () => ({ type: 'object', maxProperties: MAX_LABELS, additionalProperties: { type: 'string', maxLength: 63 } }));
describeValidator('isLabelSelector', () => ({ type: 'string', maxLength: MAX_SELECTOR_LENGTH }));

/** A labels object under the Kubernetes label rules; the message names the offending keys. */
export function IsLabels(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isLabels',
      validator: {
        validate: (value: unknown) => labelsProblems(value, 1).length === 0,
        defaultMessage: (args) => labelsProblems(args?.value).join('; ') || `must be an object of at most ${MAX_LABELS} labels`,
      },
    },
    options,
  );
}

function selectorProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a label selector string';
  try {
    parseSelector(value);
    return undefined;
  } catch (error) {
    if (error instanceof SelectorSyntaxError) return `is not a valid label selector ${error.message}`;
    throw error;
  }
}

/** A Kubernetes label selector; the message says at which character it fails and why. */
export function IsLabelSelector(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isLabelSelector',
      validator: {
        validate: (value: unknown) => selectorProblem(value) === undefined,
        defaultMessage: (args) => selectorProblem(args?.value) ?? 'must be a label selector',
      },
    },
    options,
  );
}
