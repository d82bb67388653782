// permessage-deflate (RFC 7692) for the Autobahn-style peer (autobahn.mjs):
// sections 12 (compressed payloads of many sizes) and 13 (every offer of the
// testsuite's parameter list). The peer's own compression uses node:zlib's
// documented one-shot calls with a dictionary standing for the LZ77 window
// (context takeover), so it shares no code with wsframe's, and it inflates
// with exactly the window the testee agreed to use: a back-reference beyond
// it, or into an earlier message after no_context_takeover, fails the case.
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';

const { Z_SYNC_FLUSH } = zlib.constants;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Parses a Sec-WebSocket-Extensions value into [{ name, params: { key: value|true } , repeated }]. */
export function parseExtensionHeader(header = '') {
  return header.split(',').map((e) => e.trim()).filter(Boolean).map((element) => {
    const [name, ...rest] = element.split(';').map((p) => p.trim());
    const params = {};
    let repeated = false;
    for (const p of rest) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k in params) repeated = true;
      params[k] = v === undefined ? true : v.replace(/^"|"$/g, '');
    }
    return { name: name.toLowerCase(), params, repeated };
  });
}

/** Agreed parameters from a response element (numbers for the window bits). */
export function agreedParams(element) {
  const p = element.params;
  return {
    serverNoContextTakeover: p.server_no_context_takeover === true,
    clientNoContextTakeover: p.client_no_context_takeover === true,
    serverMaxWindowBits: p.server_max_window_bits === undefined ? undefined : Number(p.server_max_window_bits),
    clientMaxWindowBits: p.client_max_window_bits === undefined ? undefined : Number(p.client_max_window_bits),
  };
}

/** Autobahn's PerMessageDeflateOffer string for (requestNoContextTakeover, requestMaxWindowBits). */
export function autobahnOffer([noContextTakeover, maxWindowBits]) {
  let s = 'permessage-deflate; client_no_context_takeover; client_max_window_bits';
  if (noContextTakeover) s += '; server_no_context_takeover';
  if (maxWindowBits) s += `; server_max_window_bits=${maxWindowBits}`;
  return s;
}

/** The fuzzingserver's answer when the testee is the client: the request applies to the client's side. */
export function autobahnServerResponse([noContextTakeover, maxWindowBits]) {
  let s = 'permessage-deflate';
  if (noContextTakeover) s += '; client_no_context_takeover';
  if (maxWindowBits) s += `; client_max_window_bits=${maxWindowBits}`;
  return s;
}

class History {
  constructor(bits) {
    this.size = 2 ** bits;
    this.bytes = Buffer.alloc(0);
  }
  add(data) {
    const all = this.bytes.length === 0 ? Buffer.from(data) : Buffer.concat([this.bytes, data]);
    this.bytes = all.length > this.size ? Buffer.from(all.subarray(all.length - this.size)) : all;
  }
}

/** One side's compression state: ours (compress) and the testee's (decompress). */
export class DeflatePeer {
  constructor(params, role) {
    const mine = role === 'client'
      ? { bits: params.clientMaxWindowBits, reset: params.clientNoContextTakeover }
      : { bits: params.serverMaxWindowBits, reset: params.serverNoContextTakeover };
    const theirs = role === 'client'
      ? { bits: params.serverMaxWindowBits, reset: params.serverNoContextTakeover }
      : { bits: params.clientMaxWindowBits, reset: params.clientNoContextTakeover };
    // zlib has no 256-byte raw window: 8 means 9 on both sides (as ws does).
    this.outBits = Math.max(9, mine.bits ?? 15);
    this.outReset = mine.reset;
    this.inBits = Math.max(9, theirs.bits ?? 15);
    this.inReset = theirs.reset;
    this.out = new History(this.outBits);
    this.in = new History(this.inBits);
  }

  compress(data) {
    const options = { windowBits: this.outBits, finishFlush: Z_SYNC_FLUSH };
    if (!this.outReset && this.out.bytes.length > 0) options.dictionary = this.out.bytes;
    const out = zlib.deflateRawSync(data, options);
    if (!this.outReset) this.out.add(data);
    if (!out.subarray(-4).equals(TAIL)) throw new Error('sync flush tail missing');
    return out.subarray(0, out.length - 4);
  }

  /** Inflates one message with exactly the agreed window (and no history after no_context_takeover). */
  decompress(data) {
    const options = { windowBits: this.inBits, finishFlush: Z_SYNC_FLUSH };
    if (!this.inReset && this.in.bytes.length > 0) options.dictionary = this.in.bytes;
    const out = zlib.inflateRawSync(Buffer.concat([data, TAIL]), options);
    if (!this.inReset) this.in.add(out);
    return out;
  }
}

// ---- payloads -----------------------------------------------------------------------

const words = 'the quick brown fox jumps over the lazy dog while Grüße from Faust über Äpfel and naïve café ' +
  'WebSocket compression negotiates windows and context takeover per message '.repeat(2);
function textCorpus(kind, length) {
  const parts = [];
  let n = 0;
  for (let i = 0; n < length; i++) {
    let p;
    if (kind === 'json') p = JSON.stringify({ id: i, user: `user${i % 37}`, tags: ['a', 'b', String(i % 7)], text: words.slice(i % 40, 60 + (i % 50)), ok: i % 3 === 0 }) + ',';
    else if (kind === 'html') p = `<div class="row r${i % 9}"><a href="/item/${i}">${words.slice(i % 30, 50 + (i % 40))}</a></div>\n`;
    else p = words.slice(i % 20) + ' ';
    parts.push(p);
    n += Buffer.byteLength(p);
  }
  return Buffer.from(parts.join(''));
}

/** A corpus of `length` bytes and whether messages cut from it are binary. */
function corpus(group, length) {
  switch (group) {
    case 1: return { data: textCorpus('json', length), binary: false, what: 'JSON-like text' };
    case 2: return { data: randomBytes(length), binary: true, what: 'random bytes (incompressible)' };
    case 3: return { data: textCorpus('prose', length), binary: false, what: 'human-readable UTF-8 text' };
    case 4: return { data: textCorpus('html', length), binary: false, what: 'HTML-like text' };
    default: {
      const data = Buffer.alloc(length);
      for (let i = 0; i < length; i += 4096) (i / 4096) % 2 === 0 ? randomBytes(Math.min(4096, length - i)).copy(data, i) : data.fill(i & 0xff, i, Math.min(length, i + 4096));
      return { data, binary: true, what: 'binary, half random half runs' };
    }
  }
}

/** A message of `size` bytes from the corpus (text cut on a UTF-8 boundary: padded with ASCII). */
function slice(c, i, size) {
  const start = (i * 977) % Math.max(1, c.data.length - size);
  const m = Buffer.from(c.data.subarray(start, start + size));
  if (!c.binary) {
    // Replace a code point split at either end by spaces, keeping the length.
    let a = 0;
    while (a < m.length && (m[a] & 0xc0) === 0x80) m[a++] = 0x20;
    let b = m.length - 1;
    let back = 0;
    while (b >= 0 && (m[b] & 0xc0) === 0x80) b--, back++;
    if (b >= 0 && m[b] >= 0xc0) {
      const need = m[b] >= 0xf0 ? 3 : m[b] >= 0xe0 ? 2 : 1;
      if (back < need) m.fill(0x20, b);
    }
  }
  return m;
}

// ---- the cases -------------------------------------------------------------------------

const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];
const FRAGMENTED = [256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];
/** Autobahn's 13.x offer list: (requestNoContextTakeover, requestMaxWindowBits). */
export const OFFERS_13 = [
  [[false, 0]],
  [[true, 0]],
  [[false, 8]],
  [[false, 15]],
  [[true, 8]],
  [[true, 15]],
  [[true, 8], [true, 0], [false, 0]],
];

/** Messages per case: Autobahn sends 1000; here at most ~1 MiB a case unless CONFORMANCE_FULL=1. */
function countFor(size) {
  if (process.env.CONFORMANCE_FULL === '1') return 1000;
  return Math.max(4, Math.min(100, Math.floor(2 ** 20 / size)));
}

/** Every 12.x and 13.x case: { id, desc, group, size, fragmentSize, count, offers }. */
export function deflateCases() {
  const cases = [];
  const variants = [...SIZES.map((size) => [size, 0]), ...FRAGMENTED.map((size) => [size, 256])];
  for (let g = 1; g <= 5; g++) {
    variants.forEach(([size, fragmentSize], k) => cases.push({ id: `12.${g}.${k + 1}`, group: g, size, fragmentSize, count: countFor(size), offers: OFFERS_13[0] }));
  }
  OFFERS_13.forEach((offers, o) => {
    variants.forEach(([size, fragmentSize], k) => cases.push({ id: `13.${o + 1}.${k + 1}`, group: 1, size, fragmentSize, count: countFor(size), offers }));
  });
  const corpora = new Map();
  for (const c of cases) {
    c.corpus = () => {
      if (!corpora.has(c.group)) corpora.set(c.group, corpus(c.group, 512 * 1024));
      return corpora.get(c.group);
    };
    c.desc = `${c.count} compressed messages of ${c.size} B` + (c.fragmentSize ? `, fragments of ${c.fragmentSize} B` : '') +
      `, offer ${c.offers.map(([n, b]) => `(${n}, ${b})`).join(' ')}`;
  }
  return cases;
}

/**
 * Checks the agreement the case reached (role 'client': the testee's response to
 * our offer; 'server': our response to the testee's offer) and returns its
 * parameters, or a reason the testee got it wrong.
 */
export function checkAgreement(c, spec) {
  if (c.role === 'client') {
    const elements = parseExtensionHeader(c.responseExtensions);
    if (elements.length !== 1 || elements[0].name !== 'permessage-deflate' || elements[0].repeated) {
      return { error: `expected one permessage-deflate in the response, got ${JSON.stringify(c.responseExtensions)}` };
    }
    const params = agreedParams(elements[0]);
    // The server takes the first acceptable offer (all of these are acceptable).
    const [noContext, bits] = spec.offers[0];
    if (noContext && !params.serverNoContextTakeover) return { error: 'server_no_context_takeover was offered but not accepted' };
    if (bits && !(params.serverMaxWindowBits <= bits)) return { error: `server_max_window_bits=${bits} offered, got ${params.serverMaxWindowBits}` };
    for (const key of Object.keys(elements[0].params)) {
      if (!['server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits'].includes(key)) return { error: `unknown parameter ${key}` };
    }
    return { params };
  }
  const offers = parseExtensionHeader(c.offerReceived);
  if (!offers.some((e) => e.name === 'permessage-deflate')) return { error: `the testee-client did not offer permessage-deflate: ${JSON.stringify(c.offerReceived)}` };
  return { params: agreedParams(parseExtensionHeader(autobahnServerResponse(spec.offers[0]))[0]) };
}

/** Runs the messages of one case on an open FuzzCase: each compressed, sent, its echo compared. */
export function runDeflateMessages(c, spec) {
  const agreement = checkAgreement(c, spec);
  if (agreement.error) {
    c.violations.push(agreement.error);
    c.sendClose(1000);
    return;
  }
  c.useDeflate(agreement.params);
  const source = spec.corpus();
  let n = 0;
  let expected = slice(source, 0, spec.size);
  c.onMessage = (data, binary) => {
    if (binary !== source.binary || !expected.equals(data)) {
      c.violations.push(`echo ${n}: got ${binary ? 'binary' : 'text'} ${data.length} B, expected ${source.binary ? 'binary' : 'text'} ${expected.length} B${expected.length === data.length ? ' (bytes differ)' : ''}`);
      c.sendClose(1000);
      return;
    }
    if (++n < spec.count) {
      expected = slice(source, n, spec.size);
      c.sendMessage(expected, { binary: source.binary, fragmentSize: spec.fragmentSize, compress: true });
      return;
    }
    c.sendClose(1000);
  };
  c.sendMessage(expected, { binary: source.binary, fragmentSize: spec.fragmentSize, compress: true });
}
