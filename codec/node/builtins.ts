// Node built-ins that only some calls need are loaded on first use, so that
// importing wsframe stays cheap (node:tls alone costs ~15 ms to load).
import { createRequire } from 'node:module';

// Built-ins resolve from any base path; process.execPath (always absolute)
// works in the ES module and the CommonJS build alike, unlike import.meta.url.
const load = createRequire(process.execPath);

export const lazyNet = (): typeof import('node:net') => load('node:net');
export const lazyTls = (): typeof import('node:tls') => load('node:tls');
export const lazyCrypto = (): typeof import('node:crypto') => load('node:crypto');
export const lazyStream = (): typeof import('node:stream') => load('node:stream');
export const lazyZlib = (): typeof import('node:zlib') => load('node:zlib');
export const lazyBuffer = (): typeof import('node:buffer') => load('node:buffer');
