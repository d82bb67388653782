// The compressor the core is given, not the one it brings: raw DEFLATE
// (RFC 1951) streams behind a small synchronous interface, so that the
// permessage-deflate extension (permessage-deflate.ts) runs in any runtime
// that can supply one. Node supplies zlib (codec/node/zlib.ts); without a
// provider, compression is declined in the handshake.
//
// Synchronous on purpose: the Connection is a synchronous state machine and
// decoder views live only during a call, so a synchronous stream keeps wire
// order and the view-lifetime rules with no queue (README, "permessage-deflate",
// has the measurements that decided it).

/** One raw DEFLATE compressor with a persistent LZ77 window (context takeover, RFC 7692 §7.2.1). */
export interface RawDeflater {
  /**
   * Compresses `data` and ends with a sync flush (Z_SYNC_FLUSH), so the
   * result ends with the empty stored block 00 00 ff ff (RFC 7692 §7.2.1).
   * Returns owned bytes; `data` is not kept.
   */
  deflate(data: Uint8Array): Uint8Array;
  /** Forgets the window (no_context_takeover, RFC 7692 §7.1.1). */
  reset(): void;
  /** Frees the native state; the deflater is unusable afterwards. */
  close(): void;
}

/** One raw DEFLATE decompressor with a persistent window. */
export interface RawInflater {
  /**
   * Decompresses `data` (with a sync flush: everything decodable is output).
   * `onOutput` gets views valid only during the call; it returns false to stop
   * at once (a size limit was hit). Returns 'ok', 'stopped' when onOutput
   * stopped it, or 'error' when the data is not valid DEFLATE (the inflater is
   * closed then).
   *
   * A block with BFINAL set ends the DEFLATE stream (RFC 7692 §7.2.3.4 allows
   * a sender to end a message that way): input after it starts a fresh stream
   * (the window is lost, as in ws), except with `tail` (the 00 00 ff ff appended
   * at a message's end, §7.2.2), which is then dropped.
   */
  inflate(data: Uint8Array, onOutput: (chunk: Uint8Array) => boolean, tail?: boolean): 'ok' | 'stopped' | 'error';
  reset(): void;
  close(): void;
}

export interface DeflaterOptions {
  /** LZ77 window, 2^windowBits bytes: 9..15 (8 is raised to 9, see permessage-deflate.ts). */
  windowBits: number;
  /** 0 (store) .. 9 (best), or -1 for the library default. */
  level: number;
  /** 1..9: memory for the internal compression state. */
  memLevel: number;
}

/** Makes raw DEFLATE streams; what a runtime injects to enable permessage-deflate. */
export interface CompressionProvider {
  createDeflater(options: DeflaterOptions): RawDeflater;
  createInflater(options: { windowBits: number }): RawInflater;
  /**
   * Optional: a fast whole-buffer UTF-8 check (Node's buffer.isUtf8) for
   * inflated text, applied to complete runs of code points. Without it a
   * streaming fatal TextDecoder is used (about 10x slower on multi-byte text).
   */
  isUtf8?(data: Uint8Array): boolean;
}
