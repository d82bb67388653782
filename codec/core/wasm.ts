// Loads wsframe's WebAssembly module once per process (or realm) and keeps
// typed views of its memory current.
//
// All decoders and encoders share one instance and one linear memory: an
// idle decoder costs a few hundred bytes of it, not a memory of its own. The
// module is embedded as base64 and compiled synchronously on first use, so
// importing wsframe is enough in Node; browsers, where synchronous compiles
// are limited to small modules on the main thread, can `await init()` first.
//
// `memory.grow()` detaches every view of the old buffer (WebAssembly JS API
// §Memory.grow). Every call into WebAssembly that may grow memory is followed
// by `refreshViews()`, and code reads `views.u8`/`views.u32` afresh rather than
// keeping its own.

import { wasmBase64 } from './generated/wasm-binary.js';
import { hostBuffer, hostProcess } from './host.js';
import { TABLE_HEAD, ENTRY_SIZE } from './generated/wasm-interface.js';

export interface WasmExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  heapStart(): number;
  heapInit(base: number): void;
  heapAlloc(bytes: number): number;
  maskInto(src: number, dst: number, len: number, key: number): number;
  /** hostUtf8: 0 when TypeScript has no host UTF-8 validator, else the shortest run of text to hand it (EV_UTF8). */
  createDecoder(expectMask: number, streaming: number, maxMessage: number, maxFragments: number, rsvAllowed: number, hostUtf8: number): number;
  destroyDecoder(ptr: number): void;
  releaseHeld(ptr: number): void;
  releaseAll(ptr: number): void;
  decoderStat(ptr: number, which: number): number;
  parse(state: number, input: number, len: number, table: number, cap: number): number;
  setPackTo(state: number, addr: number): void;
  /** Writes one frame header (RFC 6455 §5.2) at dst; returns its length. Every header but a small unmasked frame's (encoder.ts writeSmallFrame). */
  writeHeader(dst: number, b0: number, len: number, masked: number, key: number): number;
  encodeFrames(src: number, len: number, dst: number, fragmentSize: number, firstOpcode: number, lastFin: number, masked: number, keys: number): number;
}

/** Size of the top-level input area; socket reads land here directly. */
export const INPUT_SIZE = 1 << 20;
/** Input area of a nested push (a handler pushing into another decoder). */
export const NESTED_INPUT_SIZE = 64 << 10;
/** Descriptors per parse call; the parser resumes when the table is full. */
export const TABLE_CAPACITY = 1024;
const TABLE_BYTES = TABLE_HEAD + TABLE_CAPACITY * ENTRY_SIZE;
/** Encoder scratch: payload slice in, framed slice out. */
export const ENCODE_SLICE = 64 << 10;
export const ENCODE_MAX_FRAMES = 1024;

export interface ParseArea { input: number; size: number; table: number }

export interface Wasm {
  exports: WasmExports;
  /** Parse areas by nesting depth; [0] is the socket read area. */
  areas: ParseArea[];
  encodeSrc: number;
  encodeDst: number;
  encodeKeys: number;
}

/** Current views of the shared memory. */
export const views = {
  buffer: new ArrayBuffer(0) as ArrayBuffer,
  u8: new Uint8Array(0),
  u32: new Uint32Array(0),
};

let wasm: Wasm | null = null;
let memory: WebAssembly.Memory | null = null;

export function refreshViews(): void {
  // memory.grow() detaches the old buffer, and a detached view has length 0:
  // a cheap test, where the memory.buffer getter is not.
  if (views.u32.length !== 0) return;
  const buffer = memory!.buffer;
  if (buffer !== views.buffer) {
    views.buffer = buffer;
    views.u8 = new Uint8Array(buffer);
    views.u32 = new Uint32Array(buffer);
  }
}

function decodeBase64(text: string): Uint8Array {
  if (hostBuffer) return hostBuffer.from(text, 'base64');
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The module bytes: the embedded build, or WSFRAME_WASM (e.g. the assertion-enabled debug build) in Node. */
function moduleBytes(): Uint8Array {
  const override = hostProcess?.env?.WSFRAME_WASM;
  if (override && typeof hostProcess?.getBuiltinModule === 'function') {
    return hostProcess.getBuiltinModule('fs').readFileSync(override);
  }
  return decodeBase64(wasmBase64);
}

/** Only the debug build (assertions on) imports anything: the failed-assertion hook. */
const imports = {
  env: {
    abort(_message: number, _file: number, line: number, column: number): never {
      throw new Error(`wsframe: WebAssembly assertion failed at line ${line}:${column}`);
    },
  },
};

function setUp(instance: WebAssembly.Instance): Wasm {
  // Not named `exports`: in the CommonJS build that name is the module's own exports object.
  const wasmExports = instance.exports as unknown as WasmExports;
  wasmExports._initialize();
  memory = wasmExports.memory;
  wasmExports.heapInit(wasmExports.heapStart());
  const alloc = (bytes: number): number => {
    const ptr = wasmExports.heapAlloc(bytes);
    if (ptr === 0) throw new RangeError('wsframe: cannot allocate WebAssembly memory');
    return ptr;
  };
  const areas: ParseArea[] = [{ input: alloc(INPUT_SIZE), size: INPUT_SIZE, table: alloc(TABLE_BYTES) }];
  const w: Wasm = {
    exports: wasmExports,
    areas,
    encodeSrc: alloc(ENCODE_SLICE),
    encodeDst: alloc(ENCODE_SLICE + ENCODE_MAX_FRAMES * 14),
    encodeKeys: alloc(ENCODE_MAX_FRAMES * 4),
  };
  refreshViews();
  return w;
}

/** The shared instance, compiled synchronously on first use. */
export function getWasm(): Wasm {
  if (wasm === null) {
    const module = new WebAssembly.Module(moduleBytes() as BufferSource);
    wasm = setUp(new WebAssembly.Instance(module, imports));
  }
  return wasm;
}

/** Compiles the module asynchronously (for browsers); a no-op once loaded. */
export async function init(): Promise<void> {
  if (wasm !== null) return;
  const { instance } = await WebAssembly.instantiate(moduleBytes() as BufferSource, imports);
  if (wasm === null) wasm = setUp(instance);
}

/** The parse area for nesting depth `depth`, allocated on first need. */
export function parseArea(w: Wasm, depth: number): ParseArea {
  let area = w.areas[depth];
  if (area === undefined) {
    const input = w.exports.heapAlloc(NESTED_INPUT_SIZE);
    const table = w.exports.heapAlloc(TABLE_BYTES);
    if (input === 0 || table === 0) throw new RangeError('wsframe: cannot allocate WebAssembly memory');
    refreshViews();
    area = { input, size: NESTED_INPUT_SIZE, table };
    w.areas[depth] = area;
  }
  return area;
}

/** Bytes of linear memory in use by the shared instance (it never shrinks). */
export function memoryBytes(): number {
  return getWasm().exports.memory.buffer.byteLength;
}

let readView: Uint8Array | null = null;

/**
 * The socket read area (the parse area of depth 0) as one view that every
 * decoder and socket shares, made again when memory growth detached it.
 */
export function readAreaView(): Uint8Array {
  if (readView === null || readView.byteLength === 0) {
    const w = getWasm();
    refreshViews();
    readView = new Uint8Array(views.buffer, w.areas[0]!.input, INPUT_SIZE);
  }
  return readView;
}

/** True when `view` aliases the shared WebAssembly memory (and so is only valid briefly). */
export function isWasmMemory(view: ArrayBufferView): boolean {
  if (wasm === null) return false;
  // views.buffer is current once refreshed (growth only happens inside our own calls).
  refreshViews();
  return view.buffer === views.buffer;
}
