// wsframe-bench's command line: every option with its default, the help text
// that documents them, and validation that turns bad input into one line.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { WORKLOADS, WORKLOAD_INFO, DEFAULTS, type WorkloadName, type WorkloadParams, type Target } from './workloads.js';
import { METRICS, type MetricName } from './gate.js';

export interface BenchOptions {
  targets: Array<Target & { name: string }>;
  /** One entry per selected workload, parameters resolved. */
  workloads: WorkloadParams[];
  durationMs: number;
  warmupMs: number;
  messages: number;
  rounds: number;
  timeoutMs: number;
  /** Keep trying to connect to each server for this long before the run (a server still starting). */
  waitMs: number;
  freshMasks: boolean;
  insecure: boolean;
  /** Sub-protocols offered in the handshake (Sec-WebSocket-Protocol). */
  protocols: string[];
  /** Extra handshake request headers. */
  headers: Record<string, string>;
  json: string | null;
  html: string | null;
  baseline: string | null;
  metric: MetricName;
  thresholdPercent: number;
  retries: number;
  quiet: boolean;
}

export const HELP = `Usage: wsframe-bench URL [options]

Load generator for any WebSocket server that echoes messages (RFC 6455).
URL is ws://host:port/path or wss://... Every echo is checked byte for byte.

Workloads (-w, comma-separated, or "all"):
${WORKLOADS.map((w) => `  ${w.padEnd(11)} ${WORKLOAD_INFO[w]}`).join('\n')}

Options (defaults in brackets):
  -w, --workload LIST    workloads to run, in order                      [ref]
  -d, --duration SEC     measured seconds per workload and round  [5; 2 with --compare]
      --warmup SEC       unmeasured seconds before each measurement      [0.5]
  -n, --messages N       stop each round after N operations instead (0 = use --duration) [0]
      --rounds N         measurements per workload and server; results are medians
                                                             [1; 4 with --compare]
  -s, --size BYTES       payload per message (k/KiB, M/MiB suffixes) [ref, frame: 4MiB;
                         pipeline, concurrent: 64; ping: 16 (max 125)]
      --fragment BYTES   split each message into frames of BYTES; 0 = one frame
                                                          [ref: 1024; others: 0]
      --count N          messages per pipelined batch                      [1000]
  -c, --connections N    connections (concurrent: 50; connect: parallel opens, 8) [1]
      --text             send text messages (random ASCII)             [binary]
      --binary           send binary messages                              [yes]
      --fresh-masks      mask every send with new keys (default: frames are masked
                         once per connection and re-sent; the server's work is the same)
      --timeout MS       fail if no reply arrives for MS; also the connect timeout [10000]
      --wait SEC         retry connecting to each server for up to SEC seconds before
                         the run starts (for a server that is still starting)   [0]
      --insecure         wss: accept any certificate
  -H, --header 'N: V'    an extra handshake request header, e.g. authorization (repeatable)
      --protocol NAME    offer this sub-protocol (Sec-WebSocket-Protocol; repeatable)
      --compare URL      also run every workload against URL, alternating A B A B...
                         in the same run, and report ratios of medians (repeatable)
      --name NAME        a name for each server, in URL order (repeatable)  [host:port]
      --server-pid PID   read each server's CPU time from /proc/PID/stat, in URL order
                         (repeatable; Linux), to show the generator was not the limit
      --json FILE        write the results as JSON (the input of --baseline)
      --html FILE        write a self-contained HTML report with charts
      --baseline FILE    compare with an earlier --json run; exit 3 on a regression
      --metric NAME      gated metric: ${METRICS.join(', ')}  [msgs/s]
      --threshold PCT    regression = the metric worse than the baseline by more
                         than PCT percent                                    [10]
      --retries N        re-measure a failing row up to N times before failing [1]
  -q, --quiet            no live progress line (it is shown only on a terminal anyway)
  -h, --help             this text
  -v, --version          the version

Results: messages/s, MB/s (payload bytes echoed per second, 10^6), round-trip
percentiles p50/p90/p99/max (log-linear histogram, 0.1% precision), close
codes, and the generator's own CPU time (process.cpuUsage) beside the wall time.

Exit codes:
  0  the run completed (and the --baseline gate passed)
  1  the run failed: connection refused, no upgrade, closed mid-run, wrong echo, stall
  2  bad command line (unknown option, bad value, bad URL)
  3  --baseline: a row regressed past --threshold, also when re-measured

Examples:
  npx wsframe-bench ws://127.0.0.1:9001/ -w all -d 3
  npx wsframe-bench ws://127.0.0.1:9001/ -w pipeline --size 32 --count 10000 --json run.json
  npx wsframe-bench ws://127.0.0.1:9001/ --baseline ci/baseline.json --metric p99 --threshold 15
  npx wsframe-bench ws://127.0.0.1:9001/ --compare ws://127.0.0.1:9002/ -w ref,concurrent
`;

/** "4MiB", "4m", "1k", "1024" -> bytes. */
export function parseSize(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib)$/i.exec(text.trim());
  if (m === null) throw new UsageError(`${name}: expected a size in bytes (e.g. 1024, 64k, 4MiB), got "${text}"`);
  const unit = m[2]!.toLowerCase();
  const factor = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 2 ** 20 : 1;
  const value = Number(m[1]) * factor;
  if (!Number.isInteger(value)) throw new UsageError(`${name}: expected a whole number of bytes, got "${text}"`);
  return value;
}

function parseNumber(name: string, text: string, min: number, max: number, integer: boolean): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`${name}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A ws:/wss: URL, or a UsageError. */
export function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid URL "${text}": expected ws://host:port/path or wss://...`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`invalid URL "${text}": the scheme must be ws: or wss:, not ${url.protocol}`);
  }
  if (url.hash !== '') throw new UsageError(`invalid URL "${text}": a WebSocket URL has no #fragment (RFC 6455 §3)`);
  return url;
}

export type ParsedCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: BenchOptions };

export function parseCommand(argv: string[]): ParsedCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        workload: { type: 'string', short: 'w' },
        duration: { type: 'string', short: 'd' },
        warmup: { type: 'string' },
        messages: { type: 'string', short: 'n' },
        rounds: { type: 'string' },
        size: { type: 'string', short: 's' },
        fragment: { type: 'string' },
        count: { type: 'string' },
        connections: { type: 'string', short: 'c' },
        text: { type: 'boolean' },
        binary: { type: 'boolean' },
        'fresh-masks': { type: 'boolean' },
        timeout: { type: 'string' },
        wait: { type: 'string' },
        insecure: { type: 'boolean' },
        header: { type: 'string', short: 'H', multiple: true },
        protocol: { type: 'string', multiple: true },
        compare: { type: 'string', multiple: true },
        name: { type: 'string', multiple: true },
        'server-pid': { type: 'string', multiple: true },
        json: { type: 'string' },
        html: { type: 'string' },
        baseline: { type: 'string' },
        metric: { type: 'string' },
        threshold: { type: 'string' },
        retries: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    // parseArgs' messages are one line already ("Unknown option '--x'..."); keep the first sentence.
    throw new UsageError(String((error as Error).message).split('\n')[0]!.replace(/\. To specify a positional.*$/, ''));
  }
  const v = parsed.values;
  if (v.help === true) return { kind: 'help' };
  if (v.version === true) return { kind: 'version' };
  const positionals = parsed.positionals;
  if (positionals.length === 0) throw new UsageError('missing URL: wsframe-bench ws://host:port/path [options]');
  if (positionals.length > 1) throw new UsageError(`one URL expected, got ${positionals.length}: ${positionals.join(' ')} (use --compare URL for more servers)`);
  const urls = [positionals[0]!, ...(v.compare ?? [])].map(parseUrl);
  const names = v.name ?? [];
  const pids = (v['server-pid'] ?? []).map((p) => parseNumber('--server-pid', p, 1, 2 ** 31, true));
  if (names.length > urls.length) throw new UsageError(`--name given ${names.length} times for ${urls.length} URL(s)`);
  if (pids.length > urls.length) throw new UsageError(`--server-pid given ${pids.length} times for ${urls.length} URL(s)`);
  if (pids.length > 0 && process.platform !== 'linux') throw new UsageError('--server-pid reads /proc/PID/stat: Linux only');
  const targets = urls.map((url, i) => ({
    url,
    name: names[i] ?? `${url.host}${url.pathname === '/' ? '' : url.pathname}`,
    ...(pids[i] === undefined ? {} : { serverPid: pids[i] }),
  }));
  if (new Set(targets.map((t) => t.name)).size !== targets.length) throw new UsageError('two servers have the same name: give each a --name');
  const comparing = targets.length > 1;
  const headers: Record<string, string> = {};
  for (const h of v.header ?? []) {
    const colon = h.indexOf(':');
    const name = h.slice(0, colon).trim();
    if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(h)) throw new UsageError(`--header: expected "Name: value", got "${h}"`);
    headers[name] = h.slice(colon + 1).trim();
  }
  const protocols = v.protocol ?? [];
  for (const name of protocols) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new UsageError(`--protocol: "${name}" is not a token (RFC 6455 §4.1)`);
  }

  const list = (v.workload ?? 'ref').split(',').map((w) => w.trim()).filter((w) => w !== '');
  const names_ = list.includes('all') ? [...WORKLOADS] : list;
  for (const w of names_) {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new UsageError(`--workload: unknown workload "${w}" (one of ${WORKLOADS.join(', ')}, all)`);
  }
  if (v.text === true && v.binary === true) throw new UsageError('--text and --binary exclude each other');
  const size = v.size === undefined ? undefined : parseSize('--size', v.size);
  const fragment = v.fragment === undefined ? undefined : parseSize('--fragment', v.fragment);
  const count = v.count === undefined ? undefined : parseNumber('--count', v.count, 1, 1_000_000, true);
  const connections = v.connections === undefined ? undefined : parseNumber('--connections', v.connections, 1, 60_000, true);
  const workloads = (names_ as WorkloadName[]).map((workload): WorkloadParams => {
    const d = DEFAULTS[workload];
    const p: WorkloadParams = {
      workload,
      size: size ?? d.size,
      fragment: fragment ?? d.fragment,
      count: count ?? d.count,
      connections: connections ?? d.connections,
      binary: v.text !== true,
    };
    if (workload === 'ping' && p.size > 125) throw new UsageError(`--size: a ping carries at most 125 bytes (RFC 6455 §5.5), got ${p.size}`);
    if (workload === 'pipeline' && p.size * p.count > 256 * 2 ** 20) throw new UsageError('--size x --count: a pipelined batch is limited to 256 MiB');
    if (p.size > 1024 * 2 ** 20) throw new UsageError('--size: at most 1 GiB');
    if (workload === 'connect') { p.size = 0; p.fragment = 0; }
    if (workload === 'ping') p.fragment = 0;
    if (p.workload !== 'pipeline') p.count = 1;
    return p;
  });

  const durationMs = v.duration === undefined ? (comparing ? 2000 : 5000) : parseNumber('--duration', v.duration, 0, 86_400, false) * 1000;
  const messages = v.messages === undefined ? 0 : parseNumber('--messages', v.messages, 0, 1e12, true);
  if (durationMs === 0 && messages === 0) throw new UsageError('--duration 0 needs --messages N');
  const metric = (v.metric ?? 'msgs/s') as MetricName;
  if (!METRICS.includes(metric)) throw new UsageError(`--metric: unknown metric "${v.metric}" (one of ${METRICS.join(', ')})`);
  if (v.baseline !== undefined && comparing) throw new UsageError('--baseline gates one server: it cannot be combined with --compare');
  return {
    kind: 'run',
    options: {
      targets,
      workloads,
      durationMs,
      warmupMs: v.warmup === undefined ? 500 : parseNumber('--warmup', v.warmup, 0, 3600, false) * 1000,
      messages,
      rounds: v.rounds === undefined ? (comparing ? 4 : 1) : parseNumber('--rounds', v.rounds, 1, 1000, true),
      timeoutMs: v.timeout === undefined ? 10_000 : parseNumber('--timeout', v.timeout, 1, 3_600_000, true),
      waitMs: v.wait === undefined ? 0 : parseNumber('--wait', v.wait, 0, 3600, false) * 1000,
      freshMasks: v['fresh-masks'] === true,
      insecure: v.insecure === true,
      protocols,
      headers,
      json: v.json ?? null,
      html: v.html ?? null,
      baseline: v.baseline ?? null,
      metric,
      thresholdPercent: v.threshold === undefined ? 10 : parseNumber('--threshold', v.threshold, 0, 1e6, false),
      retries: v.retries === undefined ? 1 : parseNumber('--retries', v.retries, 0, 100, true),
      quiet: v.quiet === true,
    },
  };
}
