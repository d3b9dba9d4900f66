import type { ApiHeaderOptions } from '@nestjs/swagger';

export const IF_MATCH_HEADER: ApiHeaderOptions = {
  name: 'If-Match',
  required: false,
  description: 'ETag from a previous read; the request fails with 412 if the resource changed since.',
};

export const IF_NONE_MATCH_HEADER: ApiHeaderOptions = {
  name: 'If-None-Match',
  required: false,
  description: 'ETag of the copy you hold; answered with 304 and no body if it is still current.',
};
