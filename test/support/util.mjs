// Small async helpers shared by the interop tests. Everything has a timeout so
// that no test can hang: a missing event rejects with a descriptive message.
import { once } from 'node:events';

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolve with the listener arguments of the next `event` (array), or reject after `ms`. */
export function onceEvent(emitter, event, ms = 5000, label = event) {
  return withTimeout(once(emitter, event), ms, `waiting for '${label}'`);
}

/** Poll `predicate` until it is truthy or `ms` elapse. */
export async function waitFor(predicate, ms, label, step = 10) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timeout after ${ms} ms: ${label}`);
    await delay(step);
  }
}

/** Compare two byte sequences without dumping megabytes into an assertion message. */
export function sameBytes(actual, expected) {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.length !== b.length) return `length ${a.length} != expected ${b.length}`;
  if (a.equals(b)) return true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `first difference at byte ${i}: 0x${a[i].toString(16)} != expected 0x${b[i].toString(16)}`;
  }
  return 'unreachable';
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
/** The sizes the issue asks for; every one straddles a length-encoding boundary of RFC 6455 §5.2. */
export const SIZES = [0, 1, 125, 126, 65535, 65536, MiB, 16 * MiB];
export const label = (n) => (n >= MiB ? `${n / MiB} MiB` : `${n} B`);

/**
 * Queue the emissions of `event`; next() resolves with the next one (mapped).
 * Our side's message views are only valid inside the listener, so maps copy.
 */
export function eventQueue(emitter, event = 'message', map = (...args) => args) {
  const items = [];
  const waiters = [];
  emitter.on(event, (...args) => {
    const value = map(...args);
    const waiter = waiters.shift();
    if (waiter) waiter(value); else items.push(value);
  });
  return {
    items,
    next(ms = 10000, what = event) {
      if (items.length) return Promise.resolve(items.shift());
      let waiter;
      return withTimeout(new Promise((resolve) => { waiter = resolve; waiters.push(resolve); }), ms, what)
        .catch((err) => { waiters.splice(waiters.indexOf(waiter), 1); throw err; });
    },
  };
}

/** Messages from wsframe: [Buffer copy, binary]. */
export const ourMessages = (ws) => eventQueue(ws, 'message', (data, binary) => [Buffer.from(data), binary]);
/** Messages from a `ws` peer: [Buffer, isBinary]. */
export const wsMessages = (ws) => eventQueue(ws, 'message', (data, isBinary) => [Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary]);
