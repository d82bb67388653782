// Mutation-fuzzing cases and invariants, shared by test/mutation.test.mjs and test/fuzz/run.mjs.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { OP, arbMutation, arbValidStream, buildFrames, hex, messageFrames, mutate, patternBytes, patternText, splitAt, utf8 } from './frames.mjs';
import { runOurs, runModel, RFC, differentialCheck, formatEvents, repr } from './oracle.mjs';

const KEY = new Uint8Array([9, 8, 7, 6]);

export const arbMutated = fc
  .tuple(arbValidStream({ maxItems: 5, maxSize: 600 }), fc.array(arbMutation, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([clean, muts, cuts]) => {
    let bytes = clean.bytes;
    let at = Infinity;
    for (const m of muts) {
      const r = mutate(bytes, m);
      // positions after an earlier insertion/deletion shift; the first touched offset is a safe bound
      at = Math.min(at, r.at);
      bytes = r.bytes;
    }
    return { ...clean, clean: clean.bytes, bytes, at, muts, cuts };
  });

/** Probe stream for "a fresh decoder still works": masked text + binary + ping, fragmented. */
export const PROBE_TEXT = patternText(3000, 77);
export const PROBE_BIN = patternBytes(70000, 78);
export const PROBE = buildFrames([
  ...messageFrames({ payload: PROBE_TEXT, splits: [1, 1500, 2999], mask: KEY }),
  { opcode: OP.PING, payload: utf8('probe'), mask: KEY },
  ...messageFrames({ binary: true, payload: PROBE_BIN, splits: [65536], mask: KEY }),
]);
export const PROBE_EVENTS = [['message', 'text', repr(PROBE_TEXT)], ['ping', hex(utf8('probe'))], ['message', 'binary', repr(PROBE_BIN)]];

export function checkMutated(mod, c, tally) {
  const o = { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments };
  // 1. differential (whole push) — includes "never throws"
  const { ours } = differentialCheck(mod, c, tally);
  // 2. chunking must not matter on hostile input either
  const chunked = runOurs(mod, splitAt(c.bytes, c.cuts.map((x) => x % (c.bytes.length + 1))), o).events;
  if (!isDeepStrictEqual(chunked, ours)) throw new Error(`chunked decode differs\nwhole:\n${formatEvents(ours)}\nchunked:\n${formatEvents(chunked)}`);
  // 3. events of the clean stream completed before the first mutated byte are reproduced
  const clean = runModel(c.clean, o, RFC);
  let k = 0;
  while (k < clean.events.length && clean.ends[k] <= c.at) k++;
  if (!isDeepStrictEqual(ours.slice(0, k), clean.events.slice(0, k))) {
    throw new Error(`events before the mutation (offset ${c.at}) changed\nclean:\n${formatEvents(clean.events.slice(0, k))}\nmutated:\n${formatEvents(ours)}`);
  }
  // 4. at most one terminal event, last
  const term = ours.findIndex((e) => e[0] === 'error' || e[0] === 'close');
  if (term !== -1 && term !== ours.length - 1) throw new Error(`events after error/close:\n${formatEvents(ours)}`);
  // 5. a fresh decoder is unaffected
  const probe = runOurs(mod, [PROBE], { role: 'server' }).events;
  if (!isDeepStrictEqual(probe, PROBE_EVENTS)) throw new Error(`fresh decoder after this input decodes the probe stream wrongly:\n${formatEvents(probe)}`);
}

export const describeMutated = (c) =>
  `mutations ${JSON.stringify(c.muts)} first offset ${c.at} cuts ${JSON.stringify(c.cuts)}\nclean (${c.clean.length}) ${hex(c.clean, 1024)}\noptions ${JSON.stringify({ role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments })}\nbytes (${c.bytes.length}) ${hex(c.bytes, 1024)}`;
export const mutatedRecord = (c) => ({ kind: 'mutation', role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments, hex: hex(c.bytes), clean: hex(c.clean), at: c.at, cuts: c.cuts, muts: c.muts });
