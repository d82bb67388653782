// The public types as a user compiles against them (test/types/*.ts through the
// package's exports): listener arguments typed per event, so a wrong listener
// signature is a compile error (each @ts-expect-error line must be one: an
// unused directive fails tsc too), and typed options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('test/types compiles with tsc (wsframe/ws and wsframe typings)', { timeout: 120_000 }, () => {
  const run = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'test/types/tsconfig.json'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
