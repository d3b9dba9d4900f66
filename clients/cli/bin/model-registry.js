#!/usr/bin/env node
'use strict';
// The bin is this small committed file so that npm can link it before the build (npm ci builds the
// CLI afterwards, in the repository's `prepare` script).
try {
  require.resolve('../dist/main.js');
} catch {
  process.stderr.write('model-registry is not built: run `npm run cli:build` at the repository root (or `npm run build` in clients/cli).\n');
  process.exit(2);
}
require('../dist/main.js').main(process.argv);
