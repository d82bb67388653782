// wsframe's WebAssembly module: the exports TypeScript (codec/wasm.ts) binds.
export { heapInit, heapAlloc } from "./heap";
export { maskInto } from "./mask";
export { createDecoder, destroyDecoder, releaseHeld, releaseAll, decoderStat, parse, setPackTo } from "./decoder";
export { encodeFrames, writeHeader } from "./encoder";

/** Where the heap may start: after the static data. */
export function heapStart(): usize { return __heap_base; }
