// The incremental frame parser (RFC 6455 §5).
//
// One call of `parse` takes all it can from one input slice: complete headers
// are validated, payloads unmasked (v128) in place and either delivered where
// they lie (a single-frame message that sits whole in the input), streamed
// (onFragment mode, or an extension's raw data), or handed to TypeScript as
// pieces of a message it reassembles in memory of its own (EV_PIECE). What it
// finds is written to a descriptor table that TypeScript dispatches from, so
// the JS<->WASM boundary is crossed per input slice, not per frame.
//
// Messages are never reassembled here: the shared linear memory cannot shrink
// and cannot pass 4 GiB, so incomplete messages held in it would keep the
// process's memory at its high-water mark and let enough peers crash it.
// The pieces of one message found in one input slice are compacted into one
// contiguous run in the input area as they are unmasked (the frame headers
// between them are dropped), so TypeScript copies them out once per slice.
// Anything left incomplete at the end of the slice (a partial header, a
// partial control frame) is carried in the decoder's state.
//
// Text is validated as it is reported (RFC 6455 §8.1, fail fast): here, or,
// in a decoder given the host's UTF-8 validator, the long runs of complete
// code points by the host: an EV_UTF8 descriptor just before the piece's own
// asks TypeScript to check them first (still one crossing per slice; see
// utf8.ts, validateUtf8Split).
//
// A control payload carried across inputs is "held" in the decoder's state
// until TypeScript has dispatched it (the next parse call); the parser yields
// rather than overwrite it.

import { heapAlloc, heapFree } from "./heap";
import { maskInto } from "./mask";
import { validateUtf8, validateUtf8Split, hostFrom, hostTo, UTF8_ACCEPT, UTF8_REJECT } from "./utf8";
import {
  OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG,
  EV_MESSAGE, EV_FRAGMENT, EV_PING, EV_PONG, EV_CLOSE, EV_ERROR, EV_PIECE, EV_UTF8, FLAG_BINARY, FLAG_FIN, FLAG_RSV1, PIECE_UNKNOWN,
  ERR_RSV1, ERR_RSV23, ERR_INVALID_OPCODE, ERR_UNEXPECTED_CONTINUATION, ERR_EXPECTED_CONTINUATION,
  ERR_CONTROL_FRAGMENTED, ERR_CONTROL_TOO_LONG, ERR_EXPECTED_MASK, ERR_UNEXPECTED_MASK,
  ERR_LENGTH_MSB, ERR_CLOSE_LENGTH_ONE, ERR_INVALID_CLOSE_CODE, ERR_INVALID_UTF8,
  ERR_INVALID_CLOSE_UTF8, ERR_MESSAGE_TOO_BIG, ERR_TOO_MANY_FRAGMENTS,
  isValidCloseCode,
  TABLE_HEAD, HEAD_COUNT, HEAD_CONSUMED, HEAD_YIELDED, ENTRY_SIZE, ENTRY_KIND, ENTRY_PTR, ENTRY_LEN, ENTRY_EXTRA,
  STAT_FRAMES, STAT_MESSAGES, STAT_BYTES_IN, STAT_BUFFERED, STAT_PEAK_BUFFERED,
} from "./protocol";

const PHASE_HEADER: u32 = 0;
const PHASE_PAYLOAD: u32 = 1;
const PHASE_CLOSED: u32 = 2;  // a close frame was received: the rest of the stream is ignored
const PHASE_FAILED: u32 = 3;  // a protocol error was reported: the rest is ignored


@unmanaged
class DecoderState {
  expectMask: u32;      // server role: frames from the client must be masked (§5.1)
  streaming: u32;       // deliver payload pieces as they arrive instead of whole messages
  maxFragments: u32;    // 0 = no cap
  rsvAllowed: u32;      // RSV bits a negotiated extension may set on a data message's first frame (0x40: RSV1)
  hostUtf8: u32;        // 0: no host UTF-8 validator; else the shortest run of text worth handing to it (EV_UTF8)
  phase: u32;
  maxMessage: u64;
  // The frame being received.
  hdrLen: u32;          // header bytes carried over from earlier input
  hdrChecked: u32;      // 1: first two bytes validated; 2: length validated too
  opcode: u32;
  fin: u32;
  masked: u32;
  key: u32;             // mask key rotated to the next payload byte
  frameLen: u64;
  remaining: u64;
  // The message being received.
  inMessage: u32;       // a non-FIN data frame was seen: continuation frames expected
  msgOpcode: u32;       // OP_TEXT or OP_BINARY of the current message
  msgRsv: u32;          // RSV bits of its first frame: non-zero hands its payload raw to the extension
  msgLen: u64;          // payload bytes declared by its frame headers so far
  fragments: u32;
  utf8: u32;            // incremental validator state
  // Carried control payload.
  ctrlLen: u32;
  ctrlHeld: u32;
  // Telemetry.
  frames: u64;
  messages: u64;
  bytesIn: u64;
  peakBuffered: u64;
  // Where the next run of pieces starts, when the input was read straight in
  // after the message's bytes so far (0: where its first piece lies).
  packTo: u32;
}

// Inline areas after the struct: carried header bytes, carried control payload.
// @ts-ignore: decorator
@inline const HDR_AREA: usize = offsetof<DecoderState>();
// @ts-ignore: decorator
@inline const CTRL_AREA: usize = HDR_AREA + 16;
// @ts-ignore: decorator
@inline const STATE_SIZE: usize = CTRL_AREA + 128;

export function createDecoder(expectMask: u32, streaming: u32, maxMessage: f64, maxFragments: u32, rsvAllowed: u32, hostUtf8: u32): usize {
  const ptr = heapAlloc(STATE_SIZE);
  if (ptr == 0) return 0;
  memory.fill(ptr, 0, STATE_SIZE);
  const s = changetype<DecoderState>(ptr);
  s.expectMask = expectMask;
  s.streaming = streaming;
  s.maxFragments = maxFragments;
  s.rsvAllowed = rsvAllowed & 0x70;
  s.hostUtf8 = hostUtf8;
  s.maxMessage = maxMessage >= 1.8e19 ? u64.MAX_VALUE : <u64>maxMessage;
  return ptr;
}

export function destroyDecoder(ptr: usize): void {
  heapFree(ptr);
}

/** The next run of pieces starts at `addr` (at most the next input's start). */
export function setPackTo(ptr: usize, addr: usize): void {
  changetype<DecoderState>(ptr).packTo = <u32>addr;
}

/** Gives back the carried control payload once TypeScript has dispatched it. */
export function releaseHeld(ptr: usize): void {
  const s = changetype<DecoderState>(ptr);
  if (s.ctrlHeld != 0) {
    s.ctrlHeld = 0;
    s.ctrlLen = 0;
  }
}

/** After a close or an error: nothing more will be decoded, so drop what is carried. */
export function releaseAll(ptr: usize): void {
  const s = changetype<DecoderState>(ptr);
  s.ctrlLen = 0;
  s.ctrlHeld = 0;
  s.hdrLen = 0;
}

/** Telemetry, read by TypeScript on demand. */
export function decoderStat(ptr: usize, which: u32): f64 {
  const s = changetype<DecoderState>(ptr);
  switch (which) {
    case STAT_FRAMES: return <f64>s.frames;
    case STAT_MESSAGES: return <f64>s.messages;
    case STAT_BYTES_IN: return <f64>s.bytesIn;
    case STAT_BUFFERED: return <f64>s.ctrlLen + <f64>s.hdrLen;
    case STAT_PEAK_BUFFERED: return <f64>s.peakBuffered;
  }
  return -1;  // no such slot (STAT_COUNT and beyond)
}

// @ts-ignore: decorator
@inline function emit(table: usize, n: u32, kind: u32, ptr: usize, len: usize, extra: u32): void {
  const e = table + TABLE_HEAD + <usize>n * ENTRY_SIZE;
  store<u32>(e + ENTRY_KIND, kind);
  store<u32>(e + ENTRY_PTR, <u32>ptr);
  store<u32>(e + ENTRY_LEN, <u32>len);
  store<u32>(e + ENTRY_EXTRA, extra);
}

/** Header length implied by its first two bytes (§5.2). */
// @ts-ignore: decorator
@inline function headerSize(b1: u32): u32 {
  const len7 = b1 & 0x7F;
  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((b1 & 0x80) != 0 ? 4 : 0);
}

/** Rules that the first two header bytes alone decide; 0 when they pass. */
function checkFirstTwo(s: DecoderState, b0: u32, b1: u32): u32 {
  // §5.2: RSV bits must be 0 unless a negotiated extension defines them; the
  // extension decides (rsvAllowed), and sets them only on the first frame of a
  // data message (RFC 7692 §6: not on control or continuation frames).
  const opcode = b0 & 0x0F;
  const allowed = opcode == OP_TEXT || opcode == OP_BINARY ? s.rsvAllowed : 0;
  const rsv = b0 & 0x70 & ~allowed;
  if ((rsv & 0x30) != 0) return ERR_RSV23;
  if ((rsv & 0x40) != 0) return ERR_RSV1;
  const fin = b0 & 0x80;
  if (opcode == OP_CONTINUATION) {
    if (s.inMessage == 0) return ERR_UNEXPECTED_CONTINUATION;          // §5.4
  } else if (opcode == OP_TEXT || opcode == OP_BINARY) {
    if (s.inMessage != 0) return ERR_EXPECTED_CONTINUATION;            // §5.4
  } else if (opcode == OP_CLOSE || opcode == OP_PING || opcode == OP_PONG) {
    if (fin == 0) return ERR_CONTROL_FRAGMENTED;                       // §5.5
    const len7 = b1 & 0x7F;
    if (len7 > 125) return ERR_CONTROL_TOO_LONG;                       // §5.5
    if (opcode == OP_CLOSE && len7 == 1) return ERR_CLOSE_LENGTH_ONE;  // §5.5.1
  } else {
    return ERR_INVALID_OPCODE;                                         // §5.2 reserved
  }
  // §5.1: a client masks every frame, a server masks none.
  if ((b1 & 0x80) == 0) { if (s.expectMask != 0) return ERR_EXPECTED_MASK; }
  else if (s.expectMask == 0) return ERR_UNEXPECTED_MASK;
  return 0;
}

/** Reads the payload length; returns an error id or 0 and leaves the length in s.frameLen. */
function checkLength(s: DecoderState, b0: u32, h: usize): u32 {
  const len7 = <u32>load<u8>(h, 1) & 0x7F;
  let len: u64;
  if (len7 == 126) {
    len = (<u64>load<u8>(h, 2) << 8) | <u64>load<u8>(h, 3);
  } else if (len7 == 127) {
    len = bswap<u64>(load<u64>(h, 2));
    if ((len >> 63) != 0) return ERR_LENGTH_MSB;  // §5.2: the most significant bit MUST be 0
  } else {
    len = <u64>len7;
  }
  s.frameLen = len;
  const opcode = b0 & 0x0F;
  if (opcode < 8) {
    // Limits come from the header, before any byte of payload is stored.
    const before = opcode == OP_CONTINUATION ? s.msgLen : 0;
    if (len > s.maxMessage || before + len > s.maxMessage) return ERR_MESSAGE_TOO_BIG;
    if (s.maxFragments != 0 && opcode == OP_CONTINUATION && s.fragments >= s.maxFragments) return ERR_TOO_MANY_FRAGMENTS;
  }
  return 0;
}

/** Takes a complete, validated header at h into the frame and message state. */
function beginFrame(s: DecoderState, h: usize): void {
  const b0 = <u32>load<u8>(h);
  const b1 = <u32>load<u8>(h, 1);
  const opcode = b0 & 0x0F;
  const fin: u32 = (b0 & 0x80) != 0 ? 1 : 0;
  s.opcode = opcode;
  s.fin = fin;
  s.masked = (b1 & 0x80) != 0 ? 1 : 0;
  s.key = s.masked != 0 ? load<u32>(h + headerSize(b1) - 4) : 0;
  s.remaining = s.frameLen;
  s.frames++;
  if (opcode < 8) {
    if (opcode != OP_CONTINUATION) {
      s.msgOpcode = opcode;
      s.msgRsv = b0 & 0x70;
      s.msgLen = 0;
      s.fragments = 0;
      s.utf8 = UTF8_ACCEPT;
    }
    s.msgLen += s.frameLen;
    s.fragments++;
    s.inMessage = fin != 0 ? 0 : 1;
  }
  s.phase = PHASE_PAYLOAD;
}

// The parse run: one call of parse() over one input slice. The driver keeps
// the position and the descriptor count in locals; each phase function takes
// them, writes at most two descriptors (entries n and n+1 of the table) and
// returns the new position with flags: EMITTED when it wrote one, EMITTED2
// when it wrote a second (an EV_UTF8 before its own), STOP when the run must
// stop (wait for input, yield, or the stream is over).
let runYielded: u32 = 0;   // stopped with work left that needs no more input
// The open run of reassembly pieces in the input area: [runPieceStart, runPieceEnd), none when runPieceEnd is 0.
let runPieceStart: usize = 0;
let runPieceEnd: usize = 0;
// The open run is text not validated yet: a decoder with a host validator
// validates a run as a whole when it is reported (the host's call cost is
// paid per run, not per frame), or before an error found after it.
let runText: bool = false;

/** Flags on a returned position; positions are < 2^30 (the input area is 1 MiB). */
// @ts-ignore: decorator
@inline const STOP: usize = 0x80000000;
// @ts-ignore: decorator
@inline const EMITTED: usize = 0x40000000;
// @ts-ignore: decorator
@inline const EMITTED2: usize = 0x20000000;
// @ts-ignore: decorator
@inline const FLAGS: usize = STOP | EMITTED | EMITTED2;

/**
 * Parses [input, input+len). Writes descriptors to `table` (at most `cap`),
 * and to the table head their count, the bytes consumed and whether it
 * yielded; returns the count. It yields (stops with work left, possibly with
 * all input consumed, e.g. a zero-length frame still to report) only when
 * the table is full or a held buffer is needed, and then always after
 * emitting at least one descriptor. Slots of the table are kept for the open
 * run of pieces, reported when the run stops (two: an EV_UTF8 may precede it).
 */
export function parse(ptr: usize, input: usize, len: usize, table: usize, cap: u32): u32 {
  const s = changetype<DecoderState>(ptr);
  // Everything emitted by earlier calls has been dispatched by now.
  releaseHeld(ptr);
  runYielded = 0;
  runPieceEnd = 0;
  runText = false;
  let pos: usize = 0;
  let n: u32 = 0;
  while (true) {
    if (s.phase >= PHASE_CLOSED) { pos = len; break; }
    // Room for what one step may write (two) and the open run after it (two).
    if (n + 3 >= cap) { runYielded = 1; break; }
    let next: usize;
    if (s.phase == PHASE_HEADER) next = readHeader(s, ptr, input, len, pos, table, n);
    else if (s.opcode >= 8) {
      // A control frame inside a fragmented message: report the pieces before it,
      // so that later pieces are not compacted over its in-place payload.
      if (runPieceEnd != 0) { n += flushPieces(s, table, n); continue; }
      next = controlFrame(s, ptr, input, len, pos, table, n);
    }
    else if (s.streaming != 0 || s.msgRsv != 0) next = streamPiece(s, input, len, pos, table, n);
    else if (s.opcode != OP_CONTINUATION && s.fin != 0 && s.remaining == s.frameLen && s.remaining <= <u64>(len - pos)) next = wholeInPlace(s, input, len, pos, table, n);
    else next = reassemble(s, input, len, pos, table, n);
    pos = next & ~FLAGS;
    if ((next & EMITTED) != 0) n++;
    if ((next & EMITTED2) != 0) n++;
    if ((next & STOP) != 0) break;
  }
  // The open run of pieces goes out now: the input area is reused after this call.
  if (runPieceEnd != 0 && s.phase < PHASE_CLOSED) n += flushPieces(s, table, n);
  assert(pos <= len && n <= cap);
  s.bytesIn += <u64>pos;
  // Bytes carried to the next input count towards the peak (TypeScript adds the message it holds).
  const carried = <u64>s.ctrlLen + <u64>s.hdrLen;
  if (carried > s.peakBuffered) s.peakBuffered = carried;
  store<u32>(table + HEAD_COUNT, n);
  store<u32>(table + HEAD_CONSUMED, <u32>pos);
  store<u32>(table + HEAD_YIELDED, runYielded);
  return n;
}

/** Reports a protocol error: the rest of the input (and stream) is ignored. */
function fail(s: DecoderState, len: usize, table: usize, n: u32, err: u32, detail: u32): usize {
  let second: usize = 0;
  if (runText) {
    // The open run's text came before the error: its verdict comes first, as
    // when text is validated frame by frame.
    runText = false;
    const k = checkText(s, runPieceStart, runPieceEnd - runPieceStart, false, table, n);
    if (k == TEXT_INVALID) { err = ERR_INVALID_UTF8; detail = 0; }
    else if (k != 0) { n++; second = EMITTED2; }
  }
  failAt(s, table, n, err, detail);
  return len | STOP | EMITTED | second;
}

// @ts-ignore: decorator
@inline function failAt(s: DecoderState, table: usize, n: u32, err: u32, detail: u32): void {
  s.phase = PHASE_FAILED;
  runPieceEnd = 0;
  emit(table, n, EV_ERROR, detail, 0, err);
}

/** checkText's answer for invalid text. */
// @ts-ignore: decorator
@inline const TEXT_INVALID: u32 = 0xFFFFFFFF;

/**
 * Validates a piece of text about to be reported, [p, p+len), continuing the
 * message's state (`last`: the message ends with it). A decoder with a host
 * validator hands the bulk of a long piece to it: an EV_UTF8 descriptor is
 * written at entry n, before the piece's own, and TypeScript checks it first.
 * Returns the descriptors written (0 or 1), or TEXT_INVALID.
 */
function checkText(s: DecoderState, p: usize, len: usize, last: bool, table: usize, n: u32): u32 {
  if (s.hostUtf8 == 0) {
    s.utf8 = validateUtf8(s.utf8, p, len);
    return s.utf8 == UTF8_REJECT ? TEXT_INVALID : 0;
  }
  s.utf8 = validateUtf8Split(s.utf8, p, len, last, s.hostUtf8);
  if (s.utf8 == UTF8_REJECT) return TEXT_INVALID;
  if (hostTo == hostFrom) return 0;
  emit(table, n, EV_UTF8, hostFrom, hostTo - hostFrom, 0);
  return 1;
}

/** Payload bytes of the current frame available in the rest of the input. */
// @ts-ignore: decorator
@inline function available(s: DecoderState, len: usize, pos: usize): usize {
  const here = len - pos;
  return s.remaining < <u64>here ? <usize>s.remaining : here;
}

/** Header phase: validates and takes one frame header, whole in the input or carried across inputs. */
// @ts-ignore: decorator
@inline function readHeader(s: DecoderState, ptr: usize, input: usize, len: usize, pos: usize, table: usize, n: u32): usize {
  if (pos == len) return pos | STOP;
  let h: usize;
  if (s.hdrLen == 0 && len - pos >= 2 && len - pos >= <usize>headerSize(<u32>load<u8>(input + pos, 1))) {
    // Fast path: the whole header is in this input.
    h = input + pos;
    const b0 = <u32>load<u8>(h);
    let err = checkFirstTwo(s, b0, <u32>load<u8>(h, 1));
    if (err == 0) err = checkLength(s, b0, h);
    if (err != 0) return fail(s, len, table, n, err, 0);
    pos += headerSize(<u32>load<u8>(h, 1));
  } else {
    // Carry header bytes across inputs, validating each part as soon as it is complete.
    h = ptr + HDR_AREA;
    let complete = false;
    let err: u32 = 0;
    while (pos < len) {
      const need: u32 = s.hdrLen < 2 ? 2 : headerSize(<u32>load<u8>(h, 1));
      if (s.hdrLen >= need) { complete = true; break; }
      assert(s.hdrLen < 14);
      store<u8>(h + s.hdrLen, load<u8>(input + pos));
      s.hdrLen++;
      pos++;
      if (s.hdrLen == 2 && s.hdrChecked == 0) {
        err = checkFirstTwo(s, <u32>load<u8>(h), <u32>load<u8>(h, 1));
        if (err != 0) break;
        s.hdrChecked = 1;
      }
      const b1 = <u32>load<u8>(h, 1);
      const lenEnd: u32 = (b1 & 0x7F) == 126 ? 4 : (b1 & 0x7F) == 127 ? 10 : 2;
      if (s.hdrLen >= lenEnd && s.hdrChecked == 1) {
        err = checkLength(s, <u32>load<u8>(h), h);
        if (err != 0) break;
        s.hdrChecked = 2;
      }
    }
    if (err != 0) return fail(s, len, table, n, err, 0);
    if (!complete && s.hdrLen >= 2 && s.hdrLen >= headerSize(<u32>load<u8>(h, 1))) complete = true;
    if (!complete) return pos | STOP;  // pos == len: wait for more input
    s.hdrLen = 0;
    s.hdrChecked = 0;
  }
  beginFrame(s, h);
  return pos;
}

/** Control frame phase (§5.5): at most 125 bytes, delivered whole; a close frame ends the stream. */
function controlFrame(s: DecoderState, ptr: usize, input: usize, len: usize, pos: usize, table: usize, n: u32): usize {
  const avail = available(s, len, pos);
  const p = input + pos;
  let payload: usize;
  let size: usize;
  // In place when the whole payload is here (a held, already complete control payload is no obstacle).
  if ((s.ctrlLen == 0 || s.ctrlHeld != 0) && s.remaining == s.frameLen && <u64>avail == s.remaining) {
    payload = p;
    size = avail;
    if (s.masked != 0) maskInto(p, p, size, s.key);
    pos += size;
  } else {
    if (s.ctrlHeld != 0) { runYielded = 1; return pos | STOP; }
    assert(<u64>s.ctrlLen + <u64>avail <= 125);
    s.key = maskInto(p, ptr + CTRL_AREA + s.ctrlLen, avail, s.key);
    s.ctrlLen += <u32>avail;
    s.remaining -= <u64>avail;
    pos += avail;
    if (s.remaining != 0) return pos | STOP;
    payload = ptr + CTRL_AREA;
    size = s.ctrlLen;
    s.ctrlHeld = 1;
  }
  s.remaining = 0;
  s.phase = PHASE_HEADER;
  if (s.opcode == OP_PING) {
    emit(table, n, EV_PING, payload, size, 0);
    return pos | EMITTED;
  }
  if (s.opcode == OP_PONG) {
    emit(table, n, EV_PONG, payload, size, 0);
    return pos | EMITTED;
  }
  // §5.5.1, §7.1.5: no body means "no status code" (1005).
  let code: u32 = 1005;
  if (size >= 2) {
    code = (<u32>load<u8>(payload) << 8) | <u32>load<u8>(payload, 1);
    if (!isValidCloseCode(code)) return fail(s, len, table, n, ERR_INVALID_CLOSE_CODE, code);
    if (validateUtf8(UTF8_ACCEPT, payload + 2, size - 2) != UTF8_ACCEPT) return fail(s, len, table, n, ERR_INVALID_CLOSE_UTF8, 0);
    emit(table, n, EV_CLOSE, payload + 2, size - 2, code);
  } else {
    emit(table, n, EV_CLOSE, payload, 0, code);
  }
  s.phase = PHASE_CLOSED;
  return len | STOP | EMITTED;
}

/**
 * Streaming phase (onFragment mode, or a message with RSV bits): every piece
 * is unmasked in place and handed over as it is. A message with RSV bits is
 * an extension's (e.g. compressed) data: it is streamed raw, and validated by
 * TypeScript once the extension has transformed it.
 */
function streamPiece(s: DecoderState, input: usize, len: usize, pos: usize, table: usize, n: u32): usize {
  const avail = available(s, len, pos);
  const p = input + pos;
  const text = s.msgOpcode == OP_TEXT;
  const raw = s.msgRsv != 0;
  const last = s.remaining == <u64>avail && s.fin != 0;
  let k: u32 = 0;
  if (avail != 0) {
    if (s.masked != 0) s.key = maskInto(p, p, avail, s.key);
    if (text && !raw) {
      k = checkText(s, p, avail, last, table, n);
      if (k == TEXT_INVALID) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
    }
    s.remaining -= <u64>avail;
    pos += avail;
  }
  if (last && text && !raw && s.utf8 != UTF8_ACCEPT) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
  let emitted: usize = 0;
  if (avail != 0 || last) {
    emit(table, n + k, EV_FRAGMENT | (text ? 0 : FLAG_BINARY) | (last ? FLAG_FIN : 0) | (raw ? FLAG_RSV1 : 0), p, avail, 0);
    emitted = k != 0 ? EMITTED | EMITTED2 : EMITTED;
  }
  if (s.remaining != 0) return pos | STOP | emitted;
  s.phase = PHASE_HEADER;
  if (last) { s.messages++; s.msgOpcode = 0; s.msgRsv = 0; }
  return pos | emitted;
}

/** In-place phase: a single-frame message whole in the input is unmasked and delivered where it lies. */
function wholeInPlace(s: DecoderState, input: usize, len: usize, pos: usize, table: usize, n: u32): usize {
  const size = <usize>s.remaining;
  const p = input + pos;
  const text = s.msgOpcode == OP_TEXT;
  if (s.masked != 0) maskInto(p, p, size, s.key);
  let k: u32 = 0;
  if (text) {
    k = checkText(s, p, size, true, table, n);
    if (k == TEXT_INVALID || s.utf8 != UTF8_ACCEPT) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
  }
  s.remaining = 0;
  s.phase = PHASE_HEADER;
  s.messages++;
  s.msgOpcode = 0;
  emit(table, n + k, EV_MESSAGE | (text ? 0 : FLAG_BINARY), p, size, 0);
  return (pos + size) | (k != 0 ? EMITTED | EMITTED2 : EMITTED);
}

/** The bytes of the current frame still to come, as EV_PIECE reports them. */
// @ts-ignore: decorator
@inline function stillToCome(s: DecoderState): u32 {
  return s.fin != 0 && s.remaining < <u64>PIECE_UNKNOWN ? <u32>s.remaining : PIECE_UNKNOWN;
}

/** Reports the open run of pieces (not the message's last) and closes it; returns the descriptors written. */
function flushPieces(s: DecoderState, table: usize, n: u32): u32 {
  let k: u32 = 0;
  if (runText) {
    runText = false;
    k = checkText(s, runPieceStart, runPieceEnd - runPieceStart, false, table, n);
    if (k == TEXT_INVALID) { failAt(s, table, n, ERR_INVALID_UTF8, 0); return 1; }
  }
  // Only a data frame under way tells how much is still to come (a control frame's header may be the current one).
  const toCome = s.phase == PHASE_PAYLOAD && s.opcode < 8 ? stillToCome(s) : PIECE_UNKNOWN;
  emit(table, n + k, EV_PIECE | (s.msgOpcode == OP_TEXT ? 0 : FLAG_BINARY), runPieceStart, runPieceEnd - runPieceStart, toCome);
  runPieceEnd = 0;
  return k + 1;
}

/**
 * Reassembly phase: a message that is fragmented or split across inputs. Its
 * payload is unmasked (and text validated) in the input area, moved down to
 * extend the open run of pieces (headers between frames are dropped), and
 * reported as EV_PIECE when the message ends or the run stops; TypeScript
 * appends the pieces to the message's own buffer.
 */
function reassemble(s: DecoderState, input: usize, len: usize, pos: usize, table: usize, n: u32): usize {
  const avail = available(s, len, pos);
  const p = input + pos;
  const text = s.msgOpcode == OP_TEXT;
  if (avail != 0) {
    let dst = p;
    if (runPieceEnd != 0) dst = runPieceEnd;
    else {
      if (s.packTo != 0) { dst = <usize>s.packTo; s.packTo = 0; }
      runPieceStart = dst;
    }
    // dst <= p: a forward pass that reads each block before writing it is safe in place.
    if (s.masked != 0) s.key = maskInto(p, dst, avail, s.key);
    else if (dst != p) memory.copy(dst, p, avail);
    if (text) {
      if (s.hostUtf8 != 0) runText = true;  // validated as a run, see flushPieces
      else {
        s.utf8 = validateUtf8(s.utf8, dst, avail);
        if (s.utf8 == UTF8_REJECT) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
      }
    }
    runPieceEnd = dst + avail;
    s.remaining -= <u64>avail;
    pos += avail;
  }
  if (s.remaining != 0) return pos | STOP;
  s.phase = PHASE_HEADER;
  if (s.fin == 0) return runOfFragments(s, input, len, pos);
  const open = runPieceEnd != 0;
  const start = open ? runPieceStart : p;
  const size = open ? runPieceEnd - runPieceStart : 0;
  let k: u32 = 0;
  if (runText) {
    runText = false;
    k = checkText(s, start, size, true, table, n);
    if (k == TEXT_INVALID) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
  }
  if (text && s.utf8 != UTF8_ACCEPT) return fail(s, len, table, n, ERR_INVALID_UTF8, 0);
  s.messages++;
  s.msgOpcode = 0;
  emit(table, n + k, EV_PIECE | (text ? 0 : FLAG_BINARY) | FLAG_FIN, start, size, 0);
  runPieceEnd = 0;
  return pos | (k != 0 ? EMITTED | EMITTED2 : EMITTED);
}

/**
 * The common shape of a fragmented message (Autobahn 9.4: 4096 frames of
 * 1 KiB): after a non-final frame, more non-final continuation frames, each
 * whole in the input. They are taken here in one loop, each header checked
 * against exactly the rules readHeader applies to such a frame (§5.2 RSV and
 * opcode, §5.1 masking, the message and fragment limits) and its payload
 * appended to the open run, without the per-frame phase dispatch. Anything
 * else (a final or control frame, a header or payload split by the input's
 * end, a frame that breaks a rule) is left to the general path, which reports
 * it. Returns the new position (no flags: nothing is emitted here).
 */
function runOfFragments(s: DecoderState, input: usize, len: usize, pos: usize): usize {
  const maskBit: u32 = s.expectMask != 0 ? 0x80 : 0;
  const keyBytes: usize = s.expectMask != 0 ? 4 : 0;
  // Text validated here frame by frame (no host validator) stays on the general
  // path, which reports invalid text where it is found.
  const text = s.msgOpcode == OP_TEXT;
  if (text && s.hostUtf8 == 0) return pos;
  while (len - pos >= 8 + keyBytes) {
    const h = input + pos;
    // A continuation frame, FIN clear, RSV clear (§5.2; extensions' data is streamed, not here), 7- or 16-bit length.
    if (load<u8>(h) != 0) break;
    const b1 = <u32>load<u8>(h, 1);
    if ((b1 & 0x80) != maskBit) break;
    let size = <usize>(b1 & 0x7F);
    let hdr: usize = 2 + keyBytes;
    if (size == 126) {
      size = (<usize>load<u8>(h, 2) << 8) | <usize>load<u8>(h, 3);
      hdr += 2;
    } else if (size == 127) break;
    if (len - pos - hdr < size) break;
    if (s.msgLen + <u64>size > s.maxMessage) break;
    if (s.maxFragments != 0 && s.fragments >= s.maxFragments) break;
    const p = h + hdr;
    // Appended to the open run (moved down over the headers dropped); a frame
    // before this one that was empty may have left none open. Text joins the
    // run's validation by the host (runText, see flushPieces).
    let dst = runPieceEnd;
    if (dst == 0) {
      dst = p;
      if (s.packTo != 0) { dst = <usize>s.packTo; s.packTo = 0; }
      runPieceStart = dst;
    }
    if (maskBit != 0) maskInto(p, dst, size, load<u32>(p - 4));
    else if (dst != p) memory.copy(dst, p, size);
    runPieceEnd = dst + size;
    if (text) runText = true;
    s.msgLen += <u64>size;
    s.fragments++;
    s.frames++;
    pos += hdr + size;
  }
  return pos;
}
