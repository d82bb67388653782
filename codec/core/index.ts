// wsframe/codec: the runtime-neutral core — Decoder, Encoder, the Connection
// state machine, the sans-I/O opening handshake and WHATWG streams — with no
// Node built-in imported: for browsers, workers, other runtimes, and the
// fastest start. The Node edge (wsframe) re-exports all of it.
export { Decoder, DEFAULT_MEMORY_BUDGET } from './decoder.js';
export type { DecoderOptions, DecoderSettings, DecoderHandlers, DecoderStats, DecoderState } from './decoder.js';
export { Encoder, SMALL_FRAME, writeSmallFrame } from './encoder.js';
export type { EncoderOptions, MessageOptions, FragmentOptions } from './encoder.js';
export { CloseCode, ProtocolError, isSendableCloseCode } from './errors.js';
export type { ErrorCode } from './errors.js';
export { Connection } from './connection.js';
export type { ConnectionOptions, ConnectionSettings, ConnectionHandlers, ConnectionState, ConnectionRole, ConnectionTimer, TransportShutdown } from './connection.js';
export {
  DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_FRAGMENTS, DEFAULT_AUTO_PONG, DEFAULT_CLOSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
  DEFAULT_OWN_MESSAGES,
  DEFAULT_ARENA,
} from './options.js';
export type { Role, LimitOptions, BehaviourOptions, DeliveryOptions } from './options.js';
export * from './handshake.js';
export { createWebDecoderStream, createWebEncoderStream } from './web-streams.js';
export type { WebSocketStreamEvent, WebSocketStreamInput, DecoderStreamOptions, EncoderStreamOptions } from './stream-codec.js';
export type { InboundExtension } from './extension.js';
export { init } from './wasm.js';
export {
  PerMessageDeflate, PERMESSAGE_DEFLATE, DEFAULT_DEFLATE_THRESHOLD,
  resolvePerMessageDeflate, parseExtensions, formatParams as formatDeflateParams, acceptDeflateOffer, buildDeflateOffer, verifyDeflateResponse,
} from './permessage-deflate.js';
export type {
  PerMessageDeflateOptions, ResolvedPerMessageDeflateOptions, DeflateParams, DeflateAcceptance, ExtensionOffer,
  DeflateResponseVerification, InflatedSink,
} from './permessage-deflate.js';
export type { CompressionProvider, RawDeflater, RawInflater, DeflaterOptions } from './compression.js';
