// Close codes (RFC 6455 §7.4.1) and the error a Decoder reports.

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
  /** permessage-deflate (RFC 7692): the payload does not inflate. */
  | 'WS_ERR_INVALID_COMPRESSED_DATA'
  | 'WS_ERR_OUT_OF_MEMORY';

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
// Indexed by the error ids of wasm/protocol.ts.
const ERRORS: ReadonlyArray<readonly [ErrorCode, number, Describe] | undefined> = [
  undefined,
  ['WS_ERR_UNEXPECTED_RSV_1', 1002, () => 'RSV1 must be clear: no extension was negotiated (RFC 6455 §5.2)'],
  ['WS_ERR_UNEXPECTED_RSV_2_3', 1002, () => 'RSV2 and RSV3 must be clear: no extension was negotiated (RFC 6455 §5.2)'],
  ['WS_ERR_INVALID_OPCODE', 1002, () => 'reserved opcode (RFC 6455 §5.2)'],
  ['WS_ERR_UNEXPECTED_CONTINUATION', 1002, () => 'continuation frame without a message to continue (RFC 6455 §5.4)'],
  ['WS_ERR_EXPECTED_CONTINUATION', 1002, () => 'new data frame inside a fragmented message; expected a continuation frame (RFC 6455 §5.4)'],
  ['WS_ERR_EXPECTED_FIN', 1002, () => 'control frames must not be fragmented (RFC 6455 §5.5)'],
  ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, () => 'control frame payload longer than 125 bytes (RFC 6455 §5.5)'],
  ['WS_ERR_EXPECTED_MASK', 1002, () => 'frames from a client must be masked (RFC 6455 §5.1)'],
  ['WS_ERR_UNEXPECTED_MASK', 1002, () => 'frames from a server must not be masked (RFC 6455 §5.1)'],
  ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002, () => '64-bit payload length with the most significant bit set (RFC 6455 §5.2)'],
  ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002, () => 'close frame payload of 1 byte: a status code takes 2 (RFC 6455 §5.5.1)'],
  ['WS_ERR_INVALID_CLOSE_CODE', 1002, (code) => `invalid close code ${code} (RFC 6455 §7.4)`],
  ['WS_ERR_INVALID_UTF8', 1007, () => 'text message is not valid UTF-8 (RFC 6455 §8.1)'],
  ['WS_ERR_INVALID_UTF8', 1007, () => 'close reason is not valid UTF-8 (RFC 6455 §5.5.1)'],
  ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009, () => 'message exceeds maxMessageSize'],
  ['WS_ERR_TOO_MANY_FRAGMENTS', 1008, () => 'message exceeds maxFragments'],
  ['WS_ERR_OUT_OF_MEMORY', 1011, () => 'cannot grow WebAssembly memory for the message'],
];

/** The ProtocolError for a WebAssembly error id. */
export function errorFromId(id: number, detail: number): ProtocolError {
  const entry = ERRORS[id];
  if (entry === undefined) return new ProtocolError(`internal error ${id}`, 'WS_ERR_OUT_OF_MEMORY', 1011);
  return new ProtocolError(entry[2](detail), entry[0], entry[1]);
}

/** RFC 6455 §7.4: codes an endpoint may send in a close frame. */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}
