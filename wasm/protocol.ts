// Wire constants of RFC 6455 §5.2 and the codes the decoder reports.

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
export const FLAG_BINARY: u32 = 0x100;
export const FLAG_FIN: u32 = 0x200;
export const FLAG_RSV1: u32 = 0x400;  // EV_FRAGMENT of a message whose first frame had RSV1 (an extension's data)

// Error ids; codec/errors.ts maps each to its close code and name.
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
export const ERR_OUT_OF_MEMORY: u32 = 17;       // 1011 linear memory could not grow

/** RFC 6455 §7.4.1/§7.4.2: codes a peer may put in a close frame. */
export function isValidCloseCode(code: u32): bool {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}
