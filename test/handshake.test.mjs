// RFC 6455 §4 opening handshake helpers: pure functions, asserted on exact strings.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptKey,
  buildAcceptResponse,
  buildRejectResponse,
  buildRejection,
  buildUpgradeRequest,
  generateKey,
  isValidKey,
  parseResponseHead,
  parseTokenList,
  selectSubprotocol,
  validateUpgradeRequest,
  verifyUpgradeResponse,
} from 'wsframe';

// The key/accept pair from the seed's wire log (and RFC-style vector).
const WIRE_KEY = 'CdXadOGPvokB44LLa5ng1Q==';
const WIRE_ACCEPT = 'zhQ3vOanMMf9D7DxHffJjgegzFE=';

function request(headers, extra = {}) {
  return {
    method: 'GET',
    httpVersion: '1.1',
    headers: {
      host: '127.0.0.1:9001',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-version': '13',
      'sec-websocket-key': WIRE_KEY,
      ...headers,
    },
    ...extra,
  };
}

describe('acceptKey', () => {
  test('matches the wire log vector', () => {
    assert.equal(acceptKey(WIRE_KEY), WIRE_ACCEPT);
  });
  test('matches the RFC 6455 §1.3 example', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('generateKey / isValidKey', () => {
  test('random keys are 16 bytes of base64 and differ', () => {
    const a = generateKey();
    const b = generateKey();
    assert.equal(Buffer.from(a, 'base64').length, 16);
    assert.ok(isValidKey(a));
    assert.notEqual(a, b);
  });
  test('rejects wrong lengths and non-base64', () => {
    assert.equal(isValidKey(WIRE_KEY), true);
    assert.equal(isValidKey('AAAA'), false);
    assert.equal(isValidKey(Buffer.alloc(17).toString('base64')), false);
    assert.equal(isValidKey('!!!!!!!!!!!!!!!!!!!!!!=='), false);
  });
});

describe('validateUpgradeRequest (RFC 6455 §4.2.1)', () => {
  test('accepts a valid request, case-insensitive Upgrade and Connection token list', () => {
    const result = validateUpgradeRequest(
      request({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE', 'sec-websocket-protocol': 'chat, superchat' }),
    );
    assert.deepEqual(result, {
      ok: true,
      key: WIRE_KEY,
      protocols: ['chat', 'superchat'],
      extensions: '',
      origin: undefined,
    });
  });

  const bad = [
    ['POST method', request({}, { method: 'POST' }), 400, /GET/],
    ['HTTP/1.0', request({}, { httpVersion: '1.0' }), 400, /HTTP\/1\.1/],
    ['missing Host', request({ host: undefined }), 400, /Host/],
    ['Upgrade: h2c', request({ upgrade: 'h2c' }), 400, /Upgrade/],
    ['Connection without upgrade', request({ connection: 'keep-alive' }), 400, /Connection/],
    ['missing key', request({ 'sec-websocket-key': undefined }), 400, /Key/],
    ['key of 15 bytes', request({ 'sec-websocket-key': Buffer.alloc(15).toString('base64') }), 400, /Key/],
    ['invalid protocol token', request({ 'sec-websocket-protocol': 'a b' }), 400, /Protocol/],
    ['duplicate protocol', request({ 'sec-websocket-protocol': 'a, a' }), 400, /Protocol/],
  ];
  for (const [what, req, status, reason] of bad) {
    test(`${what} -> ${status}`, () => {
      const result = validateUpgradeRequest(req);
      assert.equal(result.ok, false);
      assert.equal(result.status, status);
      assert.match(result.reason, reason);
      assert.deepEqual(result.headers, {});
    });
  }

  for (const version of ['8', undefined]) {
    test(`Sec-WebSocket-Version ${version} -> 426 with Sec-WebSocket-Version: 13 (§4.4)`, () => {
      const result = validateUpgradeRequest(request({ 'sec-websocket-version': version }));
      assert.equal(result.ok, false);
      assert.equal(result.status, 426);
      assert.deepEqual(result.headers, { 'Sec-WebSocket-Version': '13' });
    });
  }
});

describe('responses', () => {
  test('101 response head, exact bytes', () => {
    assert.equal(
      buildAcceptResponse({ key: WIRE_KEY }),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${WIRE_ACCEPT}\r\n\r\n`,
    );
    assert.equal(
      buildAcceptResponse({ key: WIRE_KEY, protocol: 'chat', headers: { 'X-Test': '1' } }),
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${WIRE_ACCEPT}\r\nSec-WebSocket-Protocol: chat\r\nX-Test: 1\r\n\r\n`,
    );
  });

  test('426 rejection carries the version header and the reason as body', () => {
    const result = validateUpgradeRequest(request({ 'sec-websocket-version': '8' }));
    const text = buildRejection(result);
    assert.match(text, /^HTTP\/1\.1 426 Upgrade Required\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
    assert.match(text, /\r\nConnection: close\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    assert.equal(body, result.reason);
    assert.match(text, new RegExp(`Content-Length: ${Buffer.byteLength(body)}\\r\\n`));
  });

  test('400 rejection', () => {
    assert.equal(
      buildRejectResponse(400, 'nope'),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 4\r\n\r\nnope',
    );
  });

  test('header injection is refused', () => {
    assert.throws(() => buildAcceptResponse({ key: WIRE_KEY, headers: { 'X-A': 'a\r\nX-B: b' } }), TypeError);
  });
});

describe('selectSubprotocol / parseTokenList', () => {
  test('client preference order wins; no match -> undefined', () => {
    assert.equal(selectSubprotocol(['b', 'a'], ['a', 'b']), 'b');
    assert.equal(selectSubprotocol(['x'], ['a']), undefined);
    assert.equal(selectSubprotocol([], ['a']), undefined);
  });
  test('token lists trim and drop empty elements', () => {
    assert.deepEqual(parseTokenList(' a ,, b,'), ['a', 'b']);
    assert.deepEqual(parseTokenList(undefined), []);
  });
});

describe('client side (§4.1)', () => {
  test('request head with a fixed key, protocols and origin', () => {
    const { request: head, key } = buildUpgradeRequest({
      host: '127.0.0.1:9001',
      path: '/runCase?case=1',
      protocols: ['chat', 'v2'],
      origin: 'http://example.com',
      key: WIRE_KEY,
    });
    assert.equal(key, WIRE_KEY);
    assert.equal(
      head,
      'GET /runCase?case=1 HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${WIRE_KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, v2\r\n` +
        'Origin: http://example.com\r\n\r\n',
    );
  });

  test('random key by default, and a request our own validator accepts', () => {
    const { request: head, key } = buildUpgradeRequest({ host: 'h' });
    assert.ok(isValidKey(key));
    const parsed = parseRequestHead(head);
    assert.equal(validateUpgradeRequest(parsed).ok, true);
  });

  test('verifyUpgradeResponse accepts our own 101 and reports the protocol', () => {
    const head = parseResponseHead(Buffer.from(buildAcceptResponse({ key: WIRE_KEY, protocol: 'v2' }) + 'frames'));
    assert.equal(head.statusCode, 101);
    assert.equal(head.headBytes, Buffer.byteLength(buildAcceptResponse({ key: WIRE_KEY, protocol: 'v2' })));
    assert.deepEqual(verifyUpgradeResponse(head, WIRE_KEY, ['chat', 'v2']), { ok: true, protocol: 'v2', deflate: null });
  });

  const response = (status, headers) => ({
    statusCode: status,
    headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': WIRE_ACCEPT, ...headers },
  });
  const failures = [
    ['status 200', response(200, {}), /200/],
    ['wrong accept', response(101, { 'sec-websocket-accept': acceptKey(generateKey()) }), /Accept/],
    ['missing Upgrade', response(101, { upgrade: undefined }), /Upgrade/],
    ['Connection: close', response(101, { connection: 'close' }), /Connection/],
    ['protocol not offered', response(101, { 'sec-websocket-protocol': 'evil' }), /sub-protocol/],
    ['extension not offered', response(101, { 'sec-websocket-extensions': 'permessage-deflate' }), /extension/],
  ];
  for (const [what, res, reason] of failures) {
    test(`verifyUpgradeResponse fails on ${what}`, () => {
      const verdict = verifyUpgradeResponse(res, WIRE_KEY, ['chat']);
      assert.equal(verdict.ok, false);
      assert.match(verdict.reason, reason);
    });
  }

  test('parseResponseHead: incomplete -> null, malformed -> SyntaxError, repeated headers joined', () => {
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n')), null);
    assert.throws(() => parseResponseHead(Buffer.from('HTP/1.1 101\r\n\r\n')), SyntaxError);
    const head = parseResponseHead(Buffer.from('HTTP/1.1 101 OK\r\nConnection: a\r\nconnection: Upgrade\r\n\r\n'));
    assert.equal(head.headers.connection, 'a, Upgrade');
  });
});

/** A tiny request-head parser for the round-trip test (node:http does this in real use). */
function parseRequestHead(text) {
  const [requestLine, ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
  const [method, , version] = requestLine.split(' ');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, httpVersion: version.replace('HTTP/', ''), headers };
}
