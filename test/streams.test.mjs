// Node Transform and WHATWG TransformStream adapters: bytes <-> message objects.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createDecoderStream,
  createEncoderStream,
  createWebDecoderStream,
  createWebEncoderStream,
  Decoder,
  Encoder,
  ProtocolError,
} from 'wsframe';

const zeroMask = (b) => b.fill(0);
const clientFrames = (build) => Buffer.concat(build(new Encoder({ role: 'client', randomFill: zeroMask })));

/** A byte stream of: text, fragmented binary with a ping inside (§5.4), pong, close. */
function sampleWire() {
  const enc = new Encoder({ role: 'client', randomFill: zeroMask });
  return Buffer.concat([
    ...enc.message('héllo'),
    ...enc.fragment(Buffer.from([1, 2]), { binary: true, fin: false }),
    ...enc.ping(Buffer.from('p')),
    ...enc.fragment(Buffer.from([3]), { binary: true, fin: true }),
    ...enc.pong(Buffer.from('q')),
    ...enc.close(1000, 'bye'),
  ]);
}

const expectedEvents = [
  { type: 'message', data: Buffer.from('héllo'), binary: false },
  { type: 'ping', data: Buffer.from('p') },
  { type: 'message', data: Buffer.from([1, 2, 3]), binary: true },
  { type: 'pong', data: Buffer.from('q') },
  { type: 'close', code: 1000, reason: 'bye' },
];

/** Normalises events so Uint8Array and Buffer payloads compare equal. */
const normalise = (events) => events.map((e) => ('data' in e ? { ...e, data: Buffer.from(e.data) } : e));

/** Splits bytes into chunks of 1..7 bytes, deterministically. */
function chop(bytes) {
  const chunks = [];
  for (let i = 0, n = 1; i < bytes.length; i += n, n = (n % 7) + 1) chunks.push(bytes.subarray(i, i + n));
  return chunks;
}

describe('Node Transform streams', () => {
  test('decoder stream: events in wire order, from arbitrarily chopped input, payloads owned', async () => {
    const events = [];
    await pipeline(Readable.from(chop(sampleWire())), createDecoderStream(), async function* (source) {
      for await (const event of source) {
        if ('data' in event) assert.equal(Decoder.isDecoderMemory(event.data), false, 'payloads are copies');
        events.push(event);
      }
    });
    assert.deepEqual(normalise(events), expectedEvents);
  });

  test('decoder stream: a protocol error destroys the stream with the ProtocolError, after earlier events', async () => {
    const events = [];
    const decoder = createDecoderStream();
    decoder.on('data', (event) => events.push(event));
    const failed = new Promise((resolve) => decoder.on('error', resolve));
    decoder.write(Buffer.concat([clientFrames((e) => e.message('ok')), Buffer.from([0x83, 0x80, 0, 0, 0, 0])]));
    const error = await failed;
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.closeCode, 1002);
    assert.equal(decoder.destroyed, true);
    assert.deepEqual(normalise(events), [{ type: 'message', data: Buffer.from('ok'), binary: false }]);
  });

  test('decoder stream: maxMessageSize and role options', async () => {
    const decoder = createDecoderStream({ maxMessageSize: 4 });
    const failed = new Promise((resolve) => decoder.on('error', resolve));
    decoder.write(clientFrames((e) => e.message(Buffer.alloc(5))));
    assert.equal((await failed).closeCode, 1009);

    const client = createDecoderStream({ role: 'client' });
    const got = new Promise((resolve) => client.once('data', resolve));
    client.write(Buffer.concat(new Encoder({ role: 'server' }).message('unmasked')));
    assert.deepEqual(normalise([await got]), [{ type: 'message', data: Buffer.from('unmasked'), binary: false }]);
    client.destroy();
  });

  test('encoder stream: strings, bytes, { data, binary } and control objects, exact bytes', async () => {
    const chunks = [];
    await pipeline(
      Readable.from([
        'hi',
        Buffer.from([7]),
        { data: 'ab', binary: true },
        { type: 'ping', data: Buffer.from('x') },
        { type: 'close', code: 1000, reason: '' },
      ]),
      createEncoderStream(),
      async function* (source) {
        for await (const chunk of source) chunks.push(chunk);
      },
    );
    assert.equal(Buffer.concat(chunks).toString('hex'), '81026869' + '820107' + '82026162' + '890178' + '880203e8');
  });

  test('encoder stream (client role) -> decoder stream (server role) round trip, fragmented', async () => {
    const events = [];
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    await pipeline(
      Readable.from(['text', big, { type: 'close', code: 4000, reason: 'end' }]),
      createEncoderStream({ role: 'client', fragmentSize: 1000 }),
      createDecoderStream({ role: 'server' }),
      async function* (source) {
        for await (const event of source) events.push(event);
      },
    );
    assert.deepEqual(normalise(events), [
      { type: 'message', data: Buffer.from('text'), binary: false },
      { type: 'message', data: big, binary: true },
      { type: 'close', code: 4000, reason: 'end' },
    ]);
  });

  test('encoder stream: invalid input errors the stream', async () => {
    const encoder = createEncoderStream();
    const failed = new Promise((resolve) => encoder.on('error', resolve));
    encoder.write({ type: 'nonsense' });
    assert.ok((await failed) instanceof TypeError);
  });
});

describe('WHATWG TransformStreams', () => {
  async function collect(readable) {
    const out = [];
    for await (const value of readable) out.push(value);
    return out;
  }

  test('web decoder: same events as the Node stream', async () => {
    const source = ReadableStream.from(chop(sampleWire()).map((c) => new Uint8Array(c)));
    const events = await collect(source.pipeThrough(createWebDecoderStream()));
    for (const event of events) if ('data' in event) assert.equal(Decoder.isDecoderMemory(event.data), false);
    assert.deepEqual(normalise(events), expectedEvents);
  });

  test('web decoder: a protocol error errors the readable side with the ProtocolError', async () => {
    const source = ReadableStream.from([new Uint8Array(clientFrames((e) => e.message('ok'))), new Uint8Array([0x8a, 0x7e, 0, 0, 0, 0])]);
    const reader = source.pipeThrough(createWebDecoderStream()).getReader();
    const first = await reader.read();
    assert.deepEqual(normalise([first.value]), [{ type: 'message', data: Buffer.from('ok'), binary: false }]);
    await assert.rejects(reader.read(), (error) => error instanceof ProtocolError && error.closeCode === 1002);
  });

  test('web encoder -> web decoder round trip', async () => {
    const source = ReadableStream.from(['a', new Uint8Array([1, 2]), { type: 'pong', data: 'z' }, { type: 'close' }]);
    const events = await collect(
      source.pipeThrough(createWebEncoderStream({ role: 'client' })).pipeThrough(createWebDecoderStream({ role: 'server' })),
    );
    assert.deepEqual(normalise(events), [
      { type: 'message', data: Buffer.from('a'), binary: false },
      { type: 'message', data: Buffer.from([1, 2]), binary: true },
      { type: 'pong', data: Buffer.from('z') },
      { type: 'close', code: 1005, reason: '' },
    ]);
  });

  test('web encoder: server role, exact bytes', async () => {
    const chunks = await collect(ReadableStream.from(['hi']).pipeThrough(createWebEncoderStream()));
    assert.equal(Buffer.concat(chunks).toString('hex'), '81026869');
  });
});
