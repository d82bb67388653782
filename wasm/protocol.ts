// The JS<->WASM interface, in one place: wire constants of RFC 6455 §5.2, the
// descriptor table the parser fills, the decoder's telemetry slots and the
// error ids it reports. scripts/gen-wasm-interface.mjs reads this file and
// writes codec/core/generated/wasm-interface.ts, which the TypeScript side
// imports: edit the constants here only. Every `export const NAME: u32 = literal;`
// and every function marked `// @shared` is carried over.

export const OP_CONTINUATION: u32 = 0x0;
export const OP_TEXT: u32 = 0x1;
export const OP_BINARY: u32 = 0x2;
export const OP_CLOSE: u32 = 0x8;
export const OP_PING: u32 = 0x9;
export const OP_PONG: u32 = 0xA;

// Descriptor kinds: what one entry of the descriptor table tells TypeScript.
export const EV_MESSAGE: u32 = 1;   // whole message: ptr, len
export const EV_FRAGMENT: u32 = 2;  // streaming piece: ptr, len (+ FLAG_FIN)
export const EV_PING: u32 = 3;
export const EV_PONG: u32 = 4;
export const EV_CLOSE: u32 = 5;     // ptr/len: reason, extra: code
export const EV_ERROR: u32 = 6;     // extra: error id, ptr: detail value
export const EV_PIECE: u32 = 7;     // piece of a message reassembled by TypeScript: ptr, len (+ FLAG_FIN on its last);
                                    // extra: bytes still to come in its final frame, PIECE_UNKNOWN before that frame
export const EV_UTF8: u32 = 8;      // ptr, len: complete code points of a text piece that the host's UTF-8 validator must
                                    // accept before the descriptor after it is delivered (decoders given one only)
export const FLAG_BINARY: u32 = 0x100;
export const FLAG_FIN: u32 = 0x200;
export const FLAG_RSV1: u32 = 0x400;  // EV_FRAGMENT of a message whose first frame had RSV1 (an extension's data)
export const PIECE_UNKNOWN: u32 = 0xFFFFFFFF;  // EV_PIECE extra: the message's length is not known yet

// Descriptor table: a head of TABLE_HEAD bytes (u32 fields at the HEAD_* byte
// offsets), then entries of ENTRY_SIZE bytes (u32 fields at the ENTRY_* offsets).
export const TABLE_HEAD: u32 = 16;
export const HEAD_COUNT: u32 = 0;     // descriptors written
export const HEAD_CONSUMED: u32 = 4;  // input bytes consumed
export const HEAD_YIELDED: u32 = 8;   // 1: stopped with work left that needs no more input
export const ENTRY_SIZE: u32 = 16;
export const ENTRY_KIND: u32 = 0;     // EV_* | FLAG_*
export const ENTRY_PTR: u32 = 4;
export const ENTRY_LEN: u32 = 8;
export const ENTRY_EXTRA: u32 = 12;

// Telemetry slots of decoderStat().
export const STAT_FRAMES: u32 = 0;
export const STAT_MESSAGES: u32 = 1;
export const STAT_BYTES_IN: u32 = 2;
export const STAT_BUFFERED: u32 = 3;       // bytes carried in WebAssembly: a partial header or control frame
export const STAT_PEAK_BUFFERED: u32 = 4;
export const STAT_COUNT: u32 = 5;          // slots at or past this answer -1

// Error ids; codec/core/errors.ts maps each (by name) to its close code and text.
export const ERR_RSV1: u32 = 1;                 // 1002
export const ERR_RSV23: u32 = 2;                // 1002
export const ERR_INVALID_OPCODE: u32 = 3;       // 1002 reserved opcode
export const ERR_UNEXPECTED_CONTINUATION: u32 = 4; // 1002 continuation with no message started
export const ERR_EXPECTED_CONTINUATION: u32 = 5;   // 1002 new data frame inside a fragmented message
export const ERR_CONTROL_FRAGMENTED: u32 = 6;   // 1002 control frame without FIN
export const ERR_CONTROL_TOO_LONG: u32 = 7;     // 1002 control payload > 125
export const ERR_EXPECTED_MASK: u32 = 8;        // 1002
export const ERR_UNEXPECTED_MASK: u32 = 9;      // 1002
export const ERR_LENGTH_MSB: u32 = 10;          // 1002 64-bit length with the top bit set
export const ERR_CLOSE_LENGTH_ONE: u32 = 11;    // 1002
export const ERR_INVALID_CLOSE_CODE: u32 = 12;  // 1002
export const ERR_INVALID_UTF8: u32 = 13;        // 1007 text message
export const ERR_INVALID_CLOSE_UTF8: u32 = 14;  // 1007 close reason
export const ERR_MESSAGE_TOO_BIG: u32 = 15;     // 1009
export const ERR_TOO_MANY_FRAGMENTS: u32 = 16;  // 1008
export const ERR_OUT_OF_MEMORY: u32 = 17;       // 1011 memory for a message could not be allocated (TypeScript)
export const ERR_MEMORY_BUDGET: u32 = 18;       // 1013 the process-wide budget for incomplete messages is spent (TypeScript)

/** RFC 6455 §7.4.1/§7.4.2: codes a peer may put in a close frame (and we may send). */
// @shared
export function isValidCloseCode(code: u32): bool {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}
