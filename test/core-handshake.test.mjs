// The core's handshake needs no node:crypto: its SHA-1 and base64 are its own
// (codec/core/sha1.ts). Checked here against node:crypto on many keys,
// including lengths around the 55/56/64-byte padding boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { acceptKey, generateKey, isValidKey } from 'wsframe/codec';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

test('acceptKey matches node:crypto SHA-1 for the RFC example and 2,000 random keys', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');  // RFC 6455 §1.3
  for (let i = 0; i < 2000; i++) {
    // Keys of every length from 0 to 199 characters: SHA-1 padding edges included.
    const key = randomBytes(150).toString('base64').slice(0, i % 200);
    assert.equal(acceptKey(key), createHash('sha1').update(key + GUID).digest('base64'), `key ${JSON.stringify(key)}`);
  }
});

test('generateKey gives base64 of 16 fresh random bytes; isValidKey agrees with Buffer', () => {
  const keys = new Set();
  for (let i = 0; i < 200; i++) {
    const key = generateKey();
    assert.equal(Buffer.from(key, 'base64').length, 16);
    assert.equal(Buffer.from(key, 'base64').toString('base64'), key);
    assert.ok(isValidKey(key));
    keys.add(key);
  }
  assert.equal(keys.size, 200);
  for (const bad of ['', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ', '!GhlIHNhbXBsZSBub25jZQ==', randomBytes(17).toString('base64')]) {
    assert.equal(isValidKey(bad), false, bad);
  }
});
