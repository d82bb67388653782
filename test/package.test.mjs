// Embedders install the tarball, not a clone: `npm pack` must carry the built
// WebAssembly, JavaScript and types, and need nothing compiled or installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

test('the npm pack tarball installs into another project and works there', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsframe-pack-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }));
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['dist/node/index.js', 'dist/node/index.d.ts', 'dist/ws/index.js', 'dist/ws/index.d.ts', 'dist/cjs/package.json', 'dist/cjs/node/index.js', 'dist/cjs/ws/index.cjs', 'dist/cjs/ws/index.d.cts', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/wsframe.wasm', 'dist/core/decoder.js', 'dist/core/encoder.d.ts', 'dist/cli/echo.js']) {
      assert.ok(files.includes(f), `tarball has ${f}`);
    }
    assert.ok(!files.some((f) => f.startsWith('wasm/') || f.startsWith('test/') || f.startsWith('bench/')), 'no sources or tests shipped');
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), [], 'no runtime dependencies');

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed[0].filename)], { cwd: app, stdio: 'pipe' });
    assert.ok(existsSync(join(app, 'node_modules/wsframe/dist/node/index.d.ts')));
    writeFileSync(join(app, 'main.mjs'), `
      import { Decoder, Encoder } from 'wsframe';
      const out = [];
      const d = new Decoder({ role: 'server', onMessage: (m, binary) => out.push(Buffer.from(m).toString() + ':' + binary) });
      for (const c of new Encoder({ role: 'client' }).message('hi from a tarball')) d.push(c);
      console.log(out.join());
    `);
    const printed = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' });
    assert.equal(printed.trim(), 'hi from a tarball:false');
    // The codec entry works alone and imports no Node built-in.
    writeFileSync(join(app, 'codec.mjs'), `
      import { Decoder, Encoder, CloseCode } from 'wsframe/codec';
      let got = '';
      const d = new Decoder({ role: 'client', onClose: (code) => { got = code === CloseCode.Normal ? 'closed' : String(code); } });
      for (const c of new Encoder({ role: 'server' }).close(1000)) d.push(c);
      console.log(got);
    `);
    assert.equal(execFileSync(process.execPath, ['codec.mjs'], { cwd: app, encoding: 'utf8' }).trim(), 'closed');
    // Every file of the core, not a chosen few: none may import a node: module or leave dist/core.
    const coreDir = join(app, 'node_modules/wsframe/dist/core');
    const coreFiles = readdirSync(coreDir, { recursive: true }).filter((f) => f.endsWith('.js'));
    assert.ok(coreFiles.length >= 10 && coreFiles.includes('connection.js'), 'the core files are all there');
    for (const f of coreFiles) {
      const src = readFileSync(join(coreDir, f), 'utf8');
      assert.ok(!/from ['"]node:|import\(['"]node:|require\(/.test(src), `dist/core/${f} imports no node: module`);
      for (const [, spec] of src.matchAll(/from ['"](\.[^'"]+)['"]/g)) {
        assert.notEqual(join(f, '..', spec).split('/')[0], '..', `dist/core/${f} imports ${spec} from outside the core`);
      }
    }
    // The whole core is reachable from wsframe/codec: Connection, the handshake and the WHATWG streams too.
    writeFileSync(join(app, 'core-api.mjs'), `
      import * as core from 'wsframe/codec';
      console.log(['Connection', 'Decoder', 'Encoder', 'acceptKey', 'buildUpgradeRequest', 'verifyUpgradeResponse', 'createWebDecoderStream', 'createWebEncoderStream', 'init'].filter((n) => typeof core[n] !== 'function').join() || 'all');
      console.log(core.acceptKey('dGhlIHNhbXBsZSBub25jZQ=='));
    `);
    assert.deepEqual(execFileSync(process.execPath, ['core-api.mjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n'), ['all', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=']);
    // CommonJS consumers on Node 20 can load it with a dynamic import.
    writeFileSync(join(app, 'main.cjs'), `import('wsframe').then((m) => console.log(typeof m.Decoder, typeof m.accept));`);
    assert.equal(execFileSync(process.execPath, ['main.cjs'], { cwd: app, encoding: 'utf8' }).trim(), 'function function');
    // ...and with require() (Node 20 cannot require() an ES module: the CommonJS build).
    writeFileSync(join(app, 'require.cjs'), `
      const { Decoder, Encoder, accept } = require('wsframe');
      const codec = require('wsframe/codec');
      const WebSocket = require('wsframe/ws');
      const out = [];
      const d = new Decoder({ role: 'server', onMessage: (m) => out.push(Buffer.from(m).toString()) });
      for (const c of new codec.Encoder({ role: 'client' }).message('required')) d.push(c);
      console.log(out.join(), typeof accept, typeof Encoder, WebSocket.OPEN, WebSocket.Server === WebSocket.WebSocketServer);
      const wss = new WebSocket.Server({ port: 0, host: '127.0.0.1' }, () => {
        wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
        const client = new WebSocket('ws://127.0.0.1:' + wss.address().port);
        client.on('open', () => client.send('round trip'));
        client.on('message', (data) => { console.log(data.toString()); client.close(); wss.close(); });
      });
    `);
    assert.deepEqual(execFileSync(process.execPath, ['require.cjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n'), ['required function function 1 true', 'round trip']);
    // Types resolve for ES module and CommonJS consumers under node16, nodenext and bundler.
    writeFileSync(join(app, 'consumer-cjs.cts'), `
      import WebSocket = require('wsframe/ws');
      import { WebSocketServer, createWebSocketStream, type RawData } from 'wsframe/ws';
      import wsframe = require('wsframe');
      import { Decoder } from 'wsframe/codec';
      const server: WebSocket.Server = new WebSocketServer({ noServer: true });
      server.on('connection', (ws: WebSocket) => ws.on('message', (data: RawData) => void data));
      // @ts-expect-error 'message' data is not a number
      server.on('connection', (ws: WebSocket) => ws.on('message', (data: number) => void data));
      void [createWebSocketStream, wsframe.accept, Decoder, WebSocket.OPEN];
    `);
    writeFileSync(join(app, 'consumer-esm.mts'), `
      import WebSocket, { WebSocketServer, type RawData } from 'wsframe/ws';
      import { accept, type WebSocketReadyState } from 'wsframe';
      import { Decoder } from 'wsframe/codec';
      const server = new WebSocketServer({ noServer: true });
      server.on('connection', (ws: WebSocket) => ws.on('message', (data: RawData) => void data));
      // @ts-expect-error 'message' data is not a number
      server.on('connection', (ws: WebSocket) => ws.on('message', (data: number) => void data));
      const state: WebSocketReadyState = WebSocket.OPEN;
      void [accept, Decoder, WebSocket.Server, state];
    `);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types')];
    for (const [mode, files] of [
      [['--module', 'node16', '--moduleResolution', 'node16'], ['consumer-cjs.cts', 'consumer-esm.mts']],
      [['--module', 'nodenext', '--moduleResolution', 'nodenext'], ['consumer-cjs.cts', 'consumer-esm.mts']],
      [['--module', 'esnext', '--moduleResolution', 'bundler'], ['consumer-esm.mts']],
    ]) {
      const run = spawnSync(process.execPath, [tsc, ...common, ...mode, ...files], { cwd: app, encoding: 'utf8' });
      assert.equal(run.status, 0, `tsc ${mode.join(' ')}: ${run.stdout}${run.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
