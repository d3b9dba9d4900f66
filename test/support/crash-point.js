/*
 * TEST-ONLY fault injection for the retention crash test (test/retention-crash.e2e-spec.ts). It is not
 * part of the service: nothing in src/ reads it or its variable, and it does nothing unless a test
 * starts the compiled service with `node --require test/support/crash-point.js` AND sets CRASH_AT.
 *
 * CRASH_AT=<before|after>|<fs|sql>|<name or SQL text prefix>|<n> makes the process SIGKILL itself
 * right before (or right after the end, success or failure, of) the n-th matching call made after it
 * is armed:
 * - fs:  fs/promises functions (link, unlink, rename, copyFile, mkdir);
 * - sql: pg queries whose text starts with the given prefix (COMMIT, UPDATE model_versions v SET …).
 * It is armed by SIGUSR2, so the service starts (and recovers) normally and only the run that
 * follows is interrupted. "crash-point armed" is written to stderr when armed.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
/* global process, require */
'use strict';

const spec = process.env.CRASH_AT;
if (spec) {
  const [phase, kind, pattern, nth] = spec.split('|');
  const target = Number(nth);
  if (!['before', 'after'].includes(phase) || !['fs', 'sql'].includes(kind) || !pattern || !(target >= 1)) {
    throw new Error(`CRASH_AT must be <before|after>|<fs|sql>|<pattern>|<n>, got ${spec}`);
  }
  let armed = false;
  let seen = 0;
  const die = () => process.kill(process.pid, 'SIGKILL');
  /** Counts a matching call; true when this is the one to crash at. */
  const hit = () => armed && ++seen === target;

  process.on('SIGUSR2', () => {
    armed = true;
    process.stderr.write('crash-point armed\n');
  });

  if (kind === 'fs') {
    const fsp = require('node:fs/promises');
    const original = fsp[pattern];
    if (typeof original !== 'function') throw new Error(`CRASH_AT: fs/promises has no function ${pattern}`);
    fsp[pattern] = function (...args) {
      if (!hit()) return original.apply(this, args);
      if (phase === 'before') die();
      return original.apply(this, args).finally(die);
    };
  } else {
    const path = require('node:path');
    const { Client } = require(require.resolve('pg', { paths: [path.dirname(process.argv[1])] }));
    const original = Client.prototype.query;
    Client.prototype.query = function (config, ...rest) {
      const text = typeof config === 'string' ? config : config && config.text;
      if (typeof text !== 'string' || !text.trimStart().startsWith(pattern) || !hit()) return original.call(this, config, ...rest);
      if (phase === 'before') die();
      const callbackAt = rest.findIndex((arg) => typeof arg === 'function');
      if (callbackAt >= 0) {
        const callback = rest[callbackAt];
        rest[callbackAt] = function () {
          die();
          return callback.apply(this, arguments);
        };
        return original.call(this, config, ...rest);
      }
      return original.call(this, config, ...rest).finally(die);
    };
  }
}
