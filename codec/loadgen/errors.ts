// The two ways a wsframe-bench run ends early, each with its exit code, and
// the translation of socket errors into one readable line (no stack traces).

/** Bad command line: unknown option, bad value, bad URL. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run could not be completed: refused, not upgraded, closed mid-run, wrong echo, timeout. Exit code 1. */
export class RunError extends Error {
  override name = 'RunError';
}

export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_REGRESSION = 3;

const SOCKET_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server while writing',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'no local address/port available (too many connections in TIME_WAIT?)',
  EMFILE: 'too many open files (raise ulimit -n)',
};

/** One line for a socket or TLS error, e.g. "connection refused (ECONNREFUSED)". */
export function describeSocketError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const known = e.code !== undefined ? SOCKET_CODES[e.code] : undefined;
  if (known !== undefined) return `${known} (${e.code})`;
  const message = String(e.message ?? error).split('\n')[0]!;
  return e.code !== undefined && !message.includes(e.code) ? `${message} (${e.code})` : message;
}
