// wsframe: a zero-copy WebSocket (RFC 6455) frame codec, with its Node glue.
// (`wsframe/codec` is the codec alone, without Node built-ins.)
export * from './codec.js';
export * from './handshake.js';
export * from './connection.js';
export * from './node.js';
export * from './streams.js';
