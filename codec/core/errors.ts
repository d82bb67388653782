// Close codes (RFC 6455 §7.4.1) and the error a Decoder reports.

import {
  ERR_RSV1, ERR_RSV23, ERR_INVALID_OPCODE, ERR_UNEXPECTED_CONTINUATION, ERR_EXPECTED_CONTINUATION,
  ERR_CONTROL_FRAGMENTED, ERR_CONTROL_TOO_LONG, ERR_EXPECTED_MASK, ERR_UNEXPECTED_MASK, ERR_LENGTH_MSB,
  ERR_CLOSE_LENGTH_ONE, ERR_INVALID_CLOSE_CODE, ERR_INVALID_UTF8, ERR_INVALID_CLOSE_UTF8, ERR_MESSAGE_TOO_BIG,
  ERR_TOO_MANY_FRAGMENTS, ERR_OUT_OF_MEMORY, ERR_MEMORY_BUDGET, isValidCloseCode,
} from './generated/wasm-interface.js';

export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  TlsHandshake: 1015,
  // The RFC's own names (§7.4.1), as aliases.
  NormalClosure: 1000,
  NoStatusReceived: 1005,
  AbnormalClosure: 1006,
  InvalidFramePayloadData: 1007,
  InternalServerError: 1011,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Stable names an embedder can log and count. */
export type ErrorCode =
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_UNEXPECTED_CONTINUATION'
  | 'WS_ERR_EXPECTED_CONTINUATION'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_TOO_MANY_FRAGMENTS'
  | 'WS_ERR_OUT_OF_MEMORY'
  | 'WS_ERR_MEMORY_BUDGET'
  /** permessage-deflate (RFC 7692): the payload does not inflate. */
  | 'WS_ERR_INVALID_COMPRESSED_DATA';

/** A rule of RFC 6455 broken by the peer; close the connection with `closeCode`. */
export class ProtocolError extends Error {
  readonly closeCode: number;
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode, closeCode: number) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

type Describe = (detail: number) => string;
// Keyed by the error ids of wasm/protocol.ts (through the generated interface).
const ERRORS: ReadonlyMap<number, readonly [ErrorCode, number, Describe]> = new Map([
  [ERR_RSV1, ['WS_ERR_UNEXPECTED_RSV_1', 1002, () => 'RSV1 must be clear: no extension was negotiated (RFC 6455 §5.2)']],
  [ERR_RSV23, ['WS_ERR_UNEXPECTED_RSV_2_3', 1002, () => 'RSV2 and RSV3 must be clear: no extension was negotiated (RFC 6455 §5.2)']],
  [ERR_INVALID_OPCODE, ['WS_ERR_INVALID_OPCODE', 1002, () => 'reserved opcode (RFC 6455 §5.2)']],
  [ERR_UNEXPECTED_CONTINUATION, ['WS_ERR_UNEXPECTED_CONTINUATION', 1002, () => 'continuation frame without a message to continue (RFC 6455 §5.4)']],
  [ERR_EXPECTED_CONTINUATION, ['WS_ERR_EXPECTED_CONTINUATION', 1002, () => 'new data frame inside a fragmented message; expected a continuation frame (RFC 6455 §5.4)']],
  [ERR_CONTROL_FRAGMENTED, ['WS_ERR_EXPECTED_FIN', 1002, () => 'control frames must not be fragmented (RFC 6455 §5.5)']],
  [ERR_CONTROL_TOO_LONG, ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, () => 'control frame payload longer than 125 bytes (RFC 6455 §5.5)']],
  [ERR_EXPECTED_MASK, ['WS_ERR_EXPECTED_MASK', 1002, () => 'frames from a client must be masked (RFC 6455 §5.1)']],
  [ERR_UNEXPECTED_MASK, ['WS_ERR_UNEXPECTED_MASK', 1002, () => 'frames from a server must not be masked (RFC 6455 §5.1)']],
  [ERR_LENGTH_MSB, ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002, () => '64-bit payload length with the most significant bit set (RFC 6455 §5.2)']],
  [ERR_CLOSE_LENGTH_ONE, ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, () => 'close frame payload of 1 byte: a status code takes 2 (RFC 6455 §5.5.1)']],
  [ERR_INVALID_CLOSE_CODE, ['WS_ERR_INVALID_CLOSE_CODE', 1002, (code) => `invalid close code ${code} (RFC 6455 §7.4)`]],
  [ERR_INVALID_UTF8, ['WS_ERR_INVALID_UTF8', 1007, () => 'text message is not valid UTF-8 (RFC 6455 §8.1)']],
  [ERR_INVALID_CLOSE_UTF8, ['WS_ERR_INVALID_UTF8', 1007, () => 'close reason is not valid UTF-8 (RFC 6455 §5.5.1)']],
  [ERR_MESSAGE_TOO_BIG, ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009, () => 'message exceeds maxMessageSize']],
  [ERR_TOO_MANY_FRAGMENTS, ['WS_ERR_TOO_MANY_FRAGMENTS', 1008, () => 'message exceeds maxFragments']],
  [ERR_OUT_OF_MEMORY, ['WS_ERR_OUT_OF_MEMORY', 1011, () => 'cannot allocate memory for the message']],
  // 1013 Try Again Later (RFC 6455 §7.4.1, IANA registry): the server is out of room, not the peer at fault.
  [ERR_MEMORY_BUDGET, ['WS_ERR_MEMORY_BUDGET', 1013, () => 'the process-wide memory budget for incomplete messages is spent']],
] as const);

/** True when `id` has an entry (test/wasm-interface.test.mjs checks every ERR_* id has one). */
export function isKnownErrorId(id: number): boolean {
  return ERRORS.has(id);
}

/** The ProtocolError for a WebAssembly error id. */
export function errorFromId(id: number, detail: number): ProtocolError {
  const entry = ERRORS.get(id);
  if (entry === undefined) return new ProtocolError(`internal error ${id}`, 'WS_ERR_OUT_OF_MEMORY', 1011);
  return new ProtocolError(entry[2](detail), entry[0], entry[1]);
}

/** RFC 6455 §7.4: codes an endpoint may send in a close frame (the rule the parser applies, wasm/protocol.ts). */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && isValidCloseCode(code);
}
