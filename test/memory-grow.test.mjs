// memory.grow() detaches views of the old buffer: the decoder must rebuild its
// views after any growth, and what it hands out must be correct on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, Encoder } from 'wsframe';

const concat = (chunks) => Buffer.concat(chunks);

/**
 * Grows the shared memory by creating idle decoders until it has grown (each
 * takes a few hundred bytes of it). Messages are reassembled outside
 * WebAssembly memory, so a big message no longer grows it. Returns a disposer.
 */
function growMemory() {
  const before = Decoder.memoryBytes();
  const held = [];
  while (Decoder.memoryBytes() === before) for (let i = 0; i < 256; i++) held.push(new Decoder({}));
  return () => { for (const d of held) d.destroy(); };
}

test('messages before, during and after a growth in one chunk are all correct', () => {
  const e = new Encoder({ role: 'client' });
  const before = Decoder.memoryBytes();
  const size = 3 << 20;
  const big = Buffer.alloc(size, 'growth pattern 0123456789');
  const wire = concat([...e.message('first'), ...e.message(big, { fragmentSize: 1 << 20 }), ...e.message('last')]);
  const got = [];
  let dispose = () => {};
  const d = new Decoder({
    role: 'server',
    maxMessageSize: size,
    onMessage: (data) => {
      // Single-frame messages whole in the input are views of WebAssembly memory; a reassembled one
      // is a view of a recycled buffer (design: README, View lifetime): all valid during the handler.
      assert.equal(Decoder.isDecoderMemory(data), true);
      got.push(data.length === size ? Buffer.from(data).equals(Buffer.from(big)) : Buffer.from(data).toString());
      if (got.length === 1) dispose = growMemory();  // grows memory between the messages of this one chunk
    },
  });
  d.push(wire);
  assert.ok(Decoder.memoryBytes() > before, 'memory grew');
  assert.deepEqual(got, ['first', true, 'last']);
  d.destroy();
  dispose();
});

test('a view taken before a growth is detached after it; views taken after it are valid', () => {
  const e = new Encoder({ role: 'client' });
  let disposeGrowth = () => {};
  let early;
  let late;
  const other = new Decoder({ role: 'server', maxMessageSize: 1 << 30, onMessage: () => {} });
  const d = new Decoder({
    role: 'server',
    onMessage: (data) => {
      if (early === undefined) {
        early = data;
        assert.equal(Buffer.from(data).toString(), 'before');
        // A push into another decoder from inside a handler may grow memory (here: a nested
        // parse area and, to be sure, new decoders).
        other.push(concat(e.message(new Uint8Array(1 << 20), { fragmentSize: 1 << 16 })));
        disposeGrowth = growMemory();
      } else {
        late = data;
        assert.equal(Buffer.from(data).toString(), 'after');
      }
    },
  });
  d.push(concat([...e.message('before'), ...e.message('after')]));
  assert.equal(early.byteLength, 0, 'the early view was detached by memory.grow()');
  assert.equal(Buffer.from(late).toString(), 'after', 'a later view is still readable until memory grows again');
  d.destroy();
  other.destroy();
  disposeGrowth();
});

test('data.slice() keeps a copy that outlives the handler and any growth', () => {
  const e = new Encoder({ role: 'client' });
  const kept = [];
  const d = new Decoder({ role: 'server', maxMessageSize: 1 << 30, onMessage: (data) => kept.push(data.slice()) });
  d.push(concat(e.message('keep me')));
  const before = Decoder.memoryBytes();
  const dispose = growMemory();
  d.push(concat(e.message(new Uint8Array(1 << 20), { fragmentSize: 1 << 16 })));
  assert.ok(Decoder.memoryBytes() > before, 'memory grew');
  assert.equal(Buffer.from(kept[0]).toString(), 'keep me');
  dispose();
  assert.equal(Decoder.isDecoderMemory(kept[0]), false);
  d.destroy();
});

test('a handler pushing into its own decoder is queued in wire order', () => {
  const e = new Encoder({ role: 'client' });
  const seen = [];
  const d = new Decoder({
    role: 'server',
    onMessage: (data) => {
      const s = Buffer.from(data).toString();
      seen.push(s);
      if (s === 'a') d.push(concat(e.message('c')));
    },
  });
  d.push(concat([...e.message('a'), ...e.message('b')]));
  assert.deepEqual(seen, ['a', 'b', 'c']);
  d.destroy();
});

test('destroy() from inside a handler stops delivery and frees the decoder', () => {
  const e = new Encoder({ role: 'client' });
  const seen = [];
  const d = new Decoder({ role: 'server', onMessage: (data) => { seen.push(Buffer.from(data).toString()); d.destroy(); } });
  d.push(concat([...e.message('x'), ...e.message('y')]));
  assert.deepEqual(seen, ['x']);
  assert.equal(d.state, 'destroyed');
});
