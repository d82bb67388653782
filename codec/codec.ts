// wsframe/codec: the sans-I/O codec alone — Decoder, Encoder, close codes —
// with no Node built-in imported, for browsers, workers and other runtimes,
// and for the fastest start.
export { Decoder, DEFAULT_MAX_MESSAGE_SIZE } from './decoder.js';
export type { DecoderOptions, DecoderStats, DecoderState, Role } from './decoder.js';
export { Encoder } from './encoder.js';
export type { EncoderOptions, MessageOptions, FragmentOptions } from './encoder.js';
export { CloseCode, ProtocolError, isSendableCloseCode } from './errors.js';
export type { ErrorCode } from './errors.js';
export { init } from './wasm.js';
