// The uWebSockets.js echo server every comparison uses (loopback rows, the
// wsframe-bench figures): the native addon only — the package's JS fallback is
// built on ws. Resolves { port } or { port: 0, error }.
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function startUwsEcho({ port = 0, maxPayload = 64 * 2 ** 20 } = {}) {
  let uWS;
  try {
    const pkgDir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
    uWS = require(path.join(pkgDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));
  } catch (e) {
    return Promise.resolve({ port: 0, error: `native uWebSockets.js unavailable: ${String(e.message).split('\n')[0]}` });
  }
  return new Promise((resolve) => {
    uWS.App().ws('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: maxPayload,
      maxBackpressure: 256 * 2 ** 20,
      idleTimeout: 0,
      message: (ws, message, isBinary) => { ws.send(message, isBinary); },
    }).listen('127.0.0.1', port, (token) => {
      resolve(token ? { port: uWS.us_socket_local_port(token) } : { port: 0, error: 'uWS listen failed' });
    });
  });
}
