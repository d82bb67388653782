// The joined layers of the ES build (scripts/bundle-dist.mjs): an entry loads
// two or three modules, not ~30 (cold start, issue 13 item 6), every old path
// still works and reaches the same bindings, and the joining itself keeps
// each module's meaning (private names that collide are renamed, scopes kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(root, 'scripts/bundle-dist.mjs');

/** Files of ours an ES import of `file` loads: its static import graph (node: built-ins left out). */
function moduleGraph(file, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  for (const [, spec] of src.matchAll(/^\s*(?:import|export)\b[^;'"]*?(?:from\s*)?['"]([^'"]+)['"]/gm)) {
    if (spec.startsWith('.')) moduleGraph(join(dirname(file), spec), seen);
    else assert.match(spec, /^node:/, `${file} imports ${spec}`);
  }
  return seen;
}

test('wsframe/codec loads two modules of dist, wsframe three (plus node: built-ins)', () => {
  const codec = [...moduleGraph(join(root, 'dist/core/index.js'))].map((f) => f.slice(root.length));
  assert.deepEqual(codec.sort(), ['dist/core/_bundle.js', 'dist/core/index.js']);
  const full = [...moduleGraph(join(root, 'dist/node/index.js'))].map((f) => f.slice(root.length));
  assert.deepEqual(full.sort(), ['dist/core/_bundle.js', 'dist/node/_bundle.js', 'dist/node/index.js']);
});

test('the CommonJS build is joined the same way: require() of wsframe/codec loads two files, wsframe three', () => {
  const graph = (file, seen = new Set()) => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
      if (spec.startsWith('.')) graph(join(dirname(file), spec), seen);
      else assert.match(spec, /^node:/, `${file} requires ${spec}`);
    }
    return seen;
  };
  const files = (entry) => [...graph(join(root, entry))].map((f) => f.slice(root.length)).sort();
  assert.deepEqual(files('dist/cjs/core/index.js'), ['dist/cjs/core/_bundle.js', 'dist/cjs/core/index.js']);
  assert.deepEqual(files('dist/cjs/node/index.js'), ['dist/cjs/core/_bundle.js', 'dist/cjs/node/_bundle.js', 'dist/cjs/node/index.js']);
  const run = spawnSync(process.execPath, ['-e', `
    const full = require('wsframe'), codec = require('wsframe/codec'), deep = require('./dist/cjs/node/websocket.js');
    const got = [];
    const d = new codec.Decoder({ role: 'server', onMessage: (m) => got.push(Buffer.from(m).toString()) });
    for (const c of new full.Encoder({ role: 'client' }).message('required')) d.push(c);
    console.log(full.Decoder === codec.Decoder, deep.WebSocket === full.WebSocket, 'getWasm' in codec, got.join());
  `], { cwd: root, encoding: 'utf8' });
  assert.equal(run.stdout.trim(), 'true true false required', run.stderr);
});

test('every path reaches the same bindings: one WebAssembly instance, one class per export', async () => {
  const full = await import('wsframe');
  const codec = await import('wsframe/codec');
  const deep = await import(pathToFileURL(join(root, 'dist/core/decoder.js')).href);
  const errors = await import(pathToFileURL(join(root, 'dist/core/errors.js')).href);
  const websocket = await import(pathToFileURL(join(root, 'dist/node/websocket.js')).href);
  assert.equal(full.Decoder, codec.Decoder);
  assert.equal(deep.Decoder, codec.Decoder);
  assert.equal(errors.ProtocolError, full.ProtocolError);
  assert.equal(websocket.WebSocket, full.WebSocket);
  assert.equal(typeof websocket.kMessageSink, 'symbol');
  // The public entries export exactly what they did: no internal of the bundle leaks.
  assert.ok(!('getWasm' in codec) && !('isWasmMemory' in full) && !('kMessageSink' in full));
  assert.equal(codec.formatDeflateParams, full.formatDeflateParams);
  // A message decoded through one entry's Decoder and encoded through another's Encoder.
  const got = [];
  const d = new codec.Decoder({ role: 'server', onMessage: (m) => got.push(Buffer.from(m).toString()) });
  for (const c of new full.Encoder({ role: 'client' }).message('shared')) d.push(c);
  assert.deepEqual(got, ['shared']);
});

/** A two-layer fixture build in a temporary directory; returns its path. */
function fixture(files) {
  const dir = mkdtempSync(join(tmpdir(), 'wsframe-bundle-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('joining keeps meaning: colliding private names renamed, shadowing locals and properties untouched', async () => {
  const dir = fixture({
    'core/a.js': 'const SIZE = 1;\nexport function a() { return SIZE; }\n',
    'core/b.js': [
      "import { a } from './a.js';",
      'const SIZE = 2;',
      'const short = { SIZE };',
      'export function b() { const SIZE = 10; return [a(), short.SIZE, SIZE, props.SIZE]; }',
      'const props = { SIZE: 3 };',
      'export let counter = 0;',
      'export const bump = () => ++counter + SIZE;',
    ].join('\n'),
    'core/index.js': "export { a as first } from './a.js';\nexport * from './b.js';\nexport * from './c.js';\n",
    // c's private `Symbol` would capture d's global Symbol once joined: renamed in c
    'core/c.js': 'const Symbol = (d) => `sym:${d}`;\nexport const c = () => Symbol(1);\n',
    'core/d.js': "export const d = () => typeof Symbol('x');\n",
    'node/c.js': "import { EventEmitter } from 'node:events';\nimport { a } from '../core/a.js';\nimport { counter } from '../core/b.js';\nexport class C extends EventEmitter { v() { return [a(), counter]; } }\n",
    'node/index.js': "export * from '../core/index.js';\nexport { C } from './c.js';\n",
  });
  try {
    const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /core: 5 modules -> _bundle\.js \(\d+ exports, 2 private names renamed\)/);
    const m = await import(pathToFileURL(join(dir, 'node/index.js')).href);
    assert.deepEqual(m.b(), [1, 2, 10, 3]);
    assert.equal(m.first(), 1);
    assert.equal(m.bump(), 3);
    assert.equal(m.counter, 1, 'a let export stays a live binding');
    assert.deepEqual(new m.C().v(), [1, 1]);
    assert.equal(m.c(), 'sym:1');
    const { d } = await import(pathToFileURL(join(dir, 'core/d.js')).href);
    assert.equal(d(), 'symbol', "d's Symbol is still the global");
    assert.deepEqual(Object.keys(m).sort(), ['C', 'b', 'bump', 'c', 'counter', 'first']);
    const stub = readFileSync(join(dir, 'core/b.js'), 'utf8');
    assert.match(stub, /^\/\/ Re-exports from the joined layer[^\n]*\nexport \{ b, bump, counter \} from '\.\/_bundle\.js';\n$/);
    const again = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already bundled/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what joining cannot keep fails the build and leaves the files as they were', () => {
  const cases = [
    [{ 'core/a.js': 'export const X = 1;', 'core/b.js': 'export const X = 2;', 'core/index.js': "export { X } from './a.js';" }, /X is exported by both a\.js and b\.js/],
    [{ 'core/a.js': "import { y as z } from './b.js';\nexport const x = z;", 'core/b.js': 'export const y = 1;' }, /renamed import y as z/],
    [{ 'core/a.js': "import { y } from './b.js';\nexport const x = 1;", 'core/b.js': "import { x } from './a.js';\nexport const y = 1;" }, /import cycle/],
    [{ 'core/a.js': 'export default 1;' }, /export default/],
    // with a CommonJS build beside it, exports are copied: a reassignable one would go stale
    [{ 'core/a.js': 'export let x = 1;\nexport const bump = () => ++x;', 'cjs/core/index.js': '', 'cjs/core/a.js': '' }, /exported x is a let\/var/],
    // joined, b's global Buffer would bind to a's exported constant
    [{ 'core/a.js': 'export const Buffer = 1;', 'core/b.js': "export const y = () => Buffer.from('b');" }, /b\.js uses the global Buffer, which a\.js exports/],
  ];
  for (const [files, message] of cases) {
    const dir = fixture({ 'node/index.js': 'export {};', ...files });
    try {
      const before = readFileSync(join(dir, 'core/a.js'), 'utf8');
      const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
      assert.equal(run.status, 1, `${message}: ${run.stdout}`);
      assert.match(run.stderr, message);
      assert.equal(readFileSync(join(dir, 'core/a.js'), 'utf8'), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
