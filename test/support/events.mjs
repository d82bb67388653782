// Runs a Decoder over bytes and records what it emits, as plain data.
import { Decoder } from 'wsframe';

/** Pushes `bytes` (in chunks of `chunk` bytes, or at the given split offsets) and returns the events. */
export function decodeEvents(bytes, options = {}, { chunk = bytes.length || 1, splits = null } = {}) {
  const events = [];
  const decoder = new Decoder({
    role: 'server',
    ...options,
    onMessage: (data, binary) => events.push({ type: 'message', binary, data: Buffer.from(data) }),
    ...(options.streaming
      ? { onFragment: (data, binary, fin) => events.push({ type: 'fragment', binary, fin, data: Buffer.from(data) }) }
      : {}),
    onPing: (p) => events.push({ type: 'ping', data: Buffer.from(p) }),
    onPong: (p) => events.push({ type: 'pong', data: Buffer.from(p) }),
    onClose: (code, reason) => events.push({ type: 'close', code, reason }),
    onError: (e) => events.push({ type: 'error', closeCode: e.closeCode, code: e.code, message: e.message, isProtocolError: e.name === 'ProtocolError' }),
  });
  const cuts = splits ?? [];
  if (splits === null) for (let i = chunk; i < bytes.length; i += chunk) cuts.push(i);
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    if (at > from) decoder.push(bytes.subarray(from, at));
    from = at;
  }
  decoder.destroy();
  return events;
}

/** The first error event, or undefined. */
export const errorOf = (events) => events.find((e) => e.type === 'error');
