import type { ApiPropertyOptions } from '@nestjs/swagger';
import { MAX_LABELS } from './label-rules';
import { MAX_SELECTOR_LENGTH } from './selector';

const LABEL_RULES =
  'Keys: an optional DNS-subdomain prefix and "/", then a name of 1-63 characters of A-Z, a-z, 0-9, "-", "_", "." starting and ending with a letter or digit. ' +
  'Values: empty, or 1-63 characters under the same rule.';

/** `labels` in create and update bodies. */
export const LABELS_INPUT_PROPERTY: ApiPropertyOptions = {
  description: `Labels: up to ${MAX_LABELS} key/value strings under the Kubernetes label rules, replaced whole on update ({} clears them). ${LABEL_RULES}`,
  example: { team: 'search', env: 'prod', 'example.com/owner': 'ml-platform' },
  type: 'object',
  additionalProperties: { type: 'string', maxLength: 63 },
  maxProperties: MAX_LABELS,
};

export const LABELS_RESPONSE_PROPERTY: ApiPropertyOptions = {
  description: 'Labels (Kubernetes label rules).',
  example: { team: 'search', env: 'prod' },
  type: 'object',
  additionalProperties: { type: 'string' },
};

/** `selector` and similar query parameters. */
export function selectorQueryProperty(what: string): ApiPropertyOptions {
  return {
    description:
      `Only ${what} whose labels match this Kubernetes label selector: comma-separated requirements that must all hold — ` +
      '`key=value` (or `==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (exists), `!key` (does not exist). ' +
      '`!=` and `notin` also match objects without the key. A malformed selector is a 400 that says at which character it fails.',
    example: 'env=prod,team in (search,ads),!deprecated',
    maxLength: MAX_SELECTOR_LENGTH,
  };
}
