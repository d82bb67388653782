// Node built-ins that only some calls need are loaded on first use, so that
// importing wsframe stays cheap (node:tls alone costs ~15 ms to load).
import { createRequire } from 'node:module';

// Built-ins resolve from any base path; process.execPath (always absolute)
// works in the ES module and the CommonJS build alike, unlike import.meta.url.
const load = createRequire(process.execPath);

// Memoized: a require() call goes through the module loader's cache lookup
// each time (~10 µs), which a load generator opening thousands of
// connections per second would pay per connection.
function once<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}

export const lazyNet = once<typeof import('node:net')>('node:net');
export const lazyTls = once<typeof import('node:tls')>('node:tls');
export const lazyCrypto = once<typeof import('node:crypto')>('node:crypto');
export const lazyStream = once<typeof import('node:stream')>('node:stream');
export const lazyZlib = once<typeof import('node:zlib')>('node:zlib');
export const lazyBuffer = once<typeof import('node:buffer')>('node:buffer');
