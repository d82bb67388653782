// The extension seam of the decoder (RFC 6455 §9): a negotiated extension
// that defines RSV bits (permessage-deflate, RFC 7692, uses RSV1) receives the
// raw payload of every message whose first frame carries its bits, and
// decides what the application sees. The parser keeps the frame rules; the
// reserved-bit policy is decided here, outside it.

/** What a negotiated extension tells the decoder. */
export interface InboundExtension {
  /**
   * RSV bits (0x40 RSV1, 0x20 RSV2, 0x10 RSV3) the extension may set on the
   * first frame of a data message; set anywhere else, or any other bit, they
   * still fail the connection with 1002 (RFC 6455 §5.2, RFC 7692 §6).
   */
  readonly rsvBits: number;
  /**
   * One piece of such a message, unmasked but untransformed and not validated
   * (a text message is validated after the transform), in wire order; `fin` on
   * the message's last piece. The view is valid until this returns.
   */
  onData(data: Uint8Array, binary: boolean, fin: boolean): void;
}
