// wsframe: a zero-copy WebSocket (RFC 6455) frame codec.
export { Decoder, DEFAULT_MAX_MESSAGE_SIZE } from './decoder.js';
export type { DecoderOptions, DecoderStats, DecoderState, Role } from './decoder.js';
export { Encoder } from './encoder.js';
export type { EncoderOptions, MessageOptions, FragmentOptions } from './encoder.js';
export { CloseCode, ProtocolError, isSendableCloseCode } from './errors.js';
export type { ErrorCode } from './errors.js';
export { init } from './wasm.js';
export * from './handshake.js';
export * from './connection.js';
export * from './node.js';
export * from './streams.js';
