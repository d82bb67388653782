// ws's `perMessageDeflate` option, mapped onto wsframe's permessage-deflate
// (RFC 7692): the same parameters, zlib options under ws's names, and the
// same defaults (off on the server, offered by the client).
import {
  PerMessageDeflate, resolvePerMessageDeflate, type DeflateParams, type PerMessageDeflateOptions, type ResolvedPerMessageDeflateOptions,
} from '../core/permessage-deflate.js';
import { zlibProvider } from '../node/zlib.js';

/** ws's perMessageDeflate object (the fields wsframe honours; others are accepted). */
export interface WsPerMessageDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  /** A number, or true: offer the parameter without a value (the client's default). */
  clientMaxWindowBits?: number | boolean;
  zlibDeflateOptions?: { level?: number; memLevel?: number; [option: string]: unknown };
  zlibInflateOptions?: { [option: string]: unknown };
  /** Messages of at least this many bytes are compressed. Default 1024. */
  threshold?: number;
  /** Accepted; compression runs synchronously (see README, permessage-deflate). */
  concurrencyLimit?: number;
}

/** Resolved options, or null when compression is off (or zlib's synchronous handle is missing). */
export function resolveWsDeflate(value: boolean | WsPerMessageDeflateOptions | undefined, enabledByDefault: boolean): ResolvedPerMessageDeflateOptions | null {
  const on = value ?? enabledByDefault;
  if (on === false || zlibProvider() === null) return null;
  if (on === true) return resolvePerMessageDeflate(true, true);
  const options: PerMessageDeflateOptions = {};
  if (on.threshold !== undefined) options.threshold = on.threshold;
  if (on.serverNoContextTakeover !== undefined) options.serverNoContextTakeover = on.serverNoContextTakeover;
  if (on.clientNoContextTakeover !== undefined) options.clientNoContextTakeover = on.clientNoContextTakeover;
  if (on.serverMaxWindowBits !== undefined) options.serverMaxWindowBits = on.serverMaxWindowBits;
  if (typeof on.clientMaxWindowBits === 'number') options.clientMaxWindowBits = on.clientMaxWindowBits;
  if (on.zlibDeflateOptions?.level !== undefined) options.level = on.zlibDeflateOptions.level;
  if (on.zlibDeflateOptions?.memLevel !== undefined) options.memLevel = on.zlibDeflateOptions.memLevel;
  if (on.concurrencyLimit !== undefined) options.concurrencyLimit = on.concurrencyLimit;
  return resolvePerMessageDeflate(options, true);
}

/** The session for an agreed negotiation. */
export function deflateSession(role: 'server' | 'client', params: DeflateParams, options: ResolvedPerMessageDeflateOptions): PerMessageDeflate {
  return new PerMessageDeflate(role, params, options, zlibProvider()!);
}
