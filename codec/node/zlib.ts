// The core's CompressionProvider (codec/core/compression.ts) over node:zlib
// raw DEFLATE, run synchronously on a persistent stream.
//
// Node documents synchronous zlib only as one-shot calls (deflateRawSync),
// which cannot keep an LZ77 window between messages (context takeover,
// RFC 7692 §7.1.1), and asynchronous streams, which go through the thread
// pool (about 20x slower per ~1 KiB message, measured: README). So each
// stream's native handle is driven with its writeSync(), the call node:zlib's
// own synchronous path is built on. That is an internal of node:zlib: it is
// checked once with a round trip, and if it is missing or behaves otherwise
// zlibProvider() returns null and compression is declined in the handshake.
import type { RawDeflater, RawInflater, CompressionProvider, DeflaterOptions } from '../core/compression.js';
import { lazyBuffer, lazyZlib } from './builtins.js';

type Zlib = typeof import('node:zlib');

/** The native handle's synchronous write, as node:zlib calls it. */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
}
interface ZlibStreamInternals {
  _handle: ZlibHandle | null;
  _writeState: Uint32Array;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(): void;
}

/** Output area shared by every stream: the work is synchronous, so one at a time uses it. */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | null = null;
/** Node's smallest zlib chunkSize: the stream's own output buffer is unused here. */
const MIN_CHUNK = 64;

const noop = (): void => {};

class HandleStream {
  #stream: ZlibStreamInternals | null;
  readonly #flush: number;

  constructor(stream: ZlibStreamInternals, flush: number) {
    this.#stream = stream;
    this.#flush = flush;
    // A data error is reported by destroying the stream; without a listener it would be rethrown.
    stream.on('error', noop);
  }

  /**
   * Runs `input` through the handle; each output piece goes to `onOutput` (a
   * view of the scratch area). `onStreamEnd` says what to do with input left
   * after the end of a DEFLATE stream (BFINAL): 'restart' a fresh stream with
   * it, or 'drop' it.
   */
  run(input: Uint8Array, onOutput: (chunk: Uint8Array) => boolean, onStreamEnd: 'restart' | 'drop' = 'restart'): 'ok' | 'stopped' | 'error' {
    const stream = this.#stream;
    if (stream === null || stream._handle === null) return 'error';
    const state = stream._writeState;
    const out = (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
    let inOff = 0;
    let inLen = input.length;
    let restarted = false;
    for (;;) {
      const handle = stream._handle;
      if (handle === null) return 'error';
      handle.writeSync(this.#flush, input, inOff, inLen, out, 0, out.length);
      if (stream._handle === null) {
        this.#stream = null;
        return 'error';
      }
      const availOut = state[0]!;
      const availIn = state[1]!;
      const have = out.length - availOut;
      const consumed = inLen - availIn;
      inOff += consumed;
      inLen = availIn;
      if (have > 0 && !onOutput(out.subarray(0, have))) return 'stopped';
      if (availIn > 0 && availOut !== 0 && consumed === 0 && have === 0) {
        // No progress with input and room left: the stream ended (a BFINAL block).
        // Anything after it starts a new stream; twice in a row is garbage.
        if (restarted) return 'error';
        handle.reset();
        if (onStreamEnd === 'drop') return 'ok';
        restarted = true;
        continue;
      }
      if (consumed > 0 || have > 0) restarted = false;
      // A full output area may mean more to come; otherwise the input is used up.
      if (availOut !== 0) return 'ok';
    }
  }

  reset(): void {
    this.#stream?._handle?.reset();
  }

  close(): void {
    const stream = this.#stream;
    this.#stream = null;
    stream?.close();
  }
}

class ZlibDeflater implements RawDeflater {
  readonly #stream: HandleStream;

  constructor(stream: HandleStream) {
    this.#stream = stream;
  }

  deflate(data: Uint8Array): Uint8Array {
    const parts: Buffer[] = [];
    let size = 0;
    const result = this.#stream.run(data, (chunk) => {
      parts.push(Buffer.from(chunk));
      size += chunk.length;
      return true;
    });
    if (result !== 'ok') throw new Error('zlib deflate failed');
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  }

  reset(): void {
    this.#stream.reset();
  }

  close(): void {
    this.#stream.close();
  }
}

class ZlibInflater implements RawInflater {
  readonly #stream: HandleStream;

  constructor(stream: HandleStream) {
    this.#stream = stream;
  }

  inflate(data: Uint8Array, onOutput: (chunk: Uint8Array) => boolean, tail = false): 'ok' | 'stopped' | 'error' {
    return this.#stream.run(data, onOutput, tail ? 'drop' : 'restart');
  }

  reset(): void {
    this.#stream.reset();
  }

  close(): void {
    this.#stream.close();
  }
}

function makeProvider(zlib: Zlib): CompressionProvider {
  const { Z_SYNC_FLUSH } = zlib.constants;
  const isUtf8 = lazyBuffer().isUtf8;
  return {
    ...(typeof isUtf8 === 'function' ? { isUtf8: (data: Uint8Array) => isUtf8(data) } : {}),
    createDeflater(options: DeflaterOptions): RawDeflater {
      const stream = zlib.createDeflateRaw({
        windowBits: options.windowBits,
        level: options.level,
        memLevel: options.memLevel,
        chunkSize: MIN_CHUNK,
      }) as unknown as ZlibStreamInternals;
      return new ZlibDeflater(new HandleStream(stream, Z_SYNC_FLUSH));
    },
    createInflater(options: { windowBits: number }): RawInflater {
      const stream = zlib.createInflateRaw({ windowBits: options.windowBits, chunkSize: MIN_CHUNK }) as unknown as ZlibStreamInternals;
      return new ZlibInflater(new HandleStream(stream, Z_SYNC_FLUSH));
    },
  };
}

/** Checks the internals this file relies on with one compress/inflate round trip. */
function selfTest(provider: CompressionProvider): boolean {
  try {
    const text = new TextEncoder().encode('permessage-deflate self-test, permessage-deflate self-test');
    const deflater = provider.createDeflater({ windowBits: 15, level: -1, memLevel: 8 });
    const inflater = provider.createInflater({ windowBits: 15 });
    const compressed = deflater.deflate(text);
    const out: number[] = [];
    const result = inflater.inflate(compressed, (chunk) => {
      out.push(...chunk);
      return true;
    });
    deflater.close();
    inflater.close();
    return result === 'ok' && out.length === text.length && out.every((b, i) => b === text[i]);
  } catch {
    return false;
  }
}

let provider: CompressionProvider | null | undefined;

/** node:zlib as a CompressionProvider, or null where its synchronous handle is not as expected. */
export function zlibProvider(): CompressionProvider | null {
  if (provider === undefined) {
    const candidate = makeProvider(lazyZlib());
    provider = selfTest(candidate) ? candidate : null;
  }
  return provider;
}
