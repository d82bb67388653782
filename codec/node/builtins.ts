// Node built-ins that only some calls need are loaded on first use, so that
// importing wsframe stays cheap (node:tls alone costs ~15 ms to load).
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const lazyNet = (): typeof import('node:net') => load('node:net');
export const lazyTls = (): typeof import('node:tls') => load('node:tls');
export const lazyCrypto = (): typeof import('node:crypto') => load('node:crypto');
export const lazyStream = (): typeof import('node:stream') => load('node:stream');
