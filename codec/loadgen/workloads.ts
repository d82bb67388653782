// The workloads and one measured round of one of them against one server.
// Every workload is closed-loop (the next send waits for the echo it
// depends on), every echo is compared byte for byte with what was sent, and a
// wrong echo, an unexpected close or a stall fails the round: a broken
// server can never look fast.
import { performance } from 'node:perf_hooks';
import { randomFillSync } from 'node:crypto';
import { BenchConnection, type OpenOptions } from './connection.js';
import { Histogram } from './histogram.js';
import { RunError } from './errors.js';
import { clientCpu, processCpu, cpuDelta, type CpuTime } from './cpu.js';

export const WORKLOADS = ['ref', 'frame', 'pipeline', 'concurrent', 'ping', 'connect'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const WORKLOAD_INFO: Record<WorkloadName, string> = {
  ref: 'the reference case: a message sent as masked fragments, echo awaited\n              (Autobahn 9.4.3: 4 MiB as 4096 x 1 KiB)',
  frame: 'one message in one frame, echo awaited (4 MiB)',
  pipeline: '--count messages written at once, all echoes awaited, repeated',
  concurrent: '--connections connections, each sending a message and awaiting\n              its echo, repeated',
  ping: 'ping/pong round trips (payload --size, at most 125 bytes)',
  connect: 'connection rate: --connections parallel loops of TCP connect +\n              upgrade + closing handshake',
};

/** What a workload sends; the defaults depend on the workload (see DEFAULTS). */
export interface WorkloadParams {
  workload: WorkloadName;
  /** Payload bytes per message (ping: per ping). */
  size: number;
  /** Payload bytes per frame; 0 = one frame per message. */
  fragment: number;
  /** Messages per pipelined batch. */
  count: number;
  connections: number;
  binary: boolean;
}

export const DEFAULTS: Record<WorkloadName, Omit<WorkloadParams, 'workload' | 'binary'>> = {
  ref: { size: 4 * 2 ** 20, fragment: 1024, count: 1, connections: 1 },
  frame: { size: 4 * 2 ** 20, fragment: 0, count: 1, connections: 1 },
  pipeline: { size: 64, fragment: 0, count: 1000, connections: 1 },
  concurrent: { size: 64, fragment: 0, count: 1, connections: 50 },
  ping: { size: 16, fragment: 0, count: 1, connections: 1 },
  connect: { size: 0, fragment: 0, count: 1, connections: 8 },
};

/** A stable name for a workload and its parameters: rows of a baseline are matched on it. */
export function rowKey(p: WorkloadParams): string {
  const parts: string[] = [p.workload];
  if (p.workload !== 'connect') parts.push(`size=${p.size}`);
  if (p.fragment > 0) parts.push(`fragment=${p.fragment}`);
  if (p.workload === 'pipeline') parts.push(`count=${p.count}`);
  parts.push(`connections=${p.connections}`);
  if (p.workload !== 'connect' && p.workload !== 'ping') parts.push(p.binary ? 'binary' : 'text');
  return parts.join(' ');
}

export interface RoundLimits {
  /** Measured time; the round stops earlier when `messages` is reached. */
  durationMs: number;
  /** Unmeasured time before it, for connections, JIT and the server to settle. */
  warmupMs: number;
  /** Stop after this many operations (0: no limit). */
  messages: number;
  /** Fail if no operation completes for this long; also the connect/close timeout. */
  timeoutMs: number;
  /** Encode (mask) every send afresh instead of re-sending frames encoded once per connection. */
  freshMasks: boolean;
  /** Sub-protocols, extra headers, TLS options for every connection. */
  dial?: OpenOptions['dial'];
}

export interface Target {
  url: URL;
  /** PID of the server process, to read its CPU time (Linux). */
  serverPid?: number;
}

export interface RoundResult {
  /** Measured seconds (warm-up excluded). */
  seconds: number;
  /** Operations completed while measuring: echoed messages, pongs, or open/close cycles. */
  messages: number;
  /** Payload bytes echoed while measuring (counted once, not per direction). */
  bytes: number;
  histogram: Histogram;
  /** Operations per timeline interval. */
  timeline: number[];
  timelineIntervalMs: number;
  closeCodes: Record<string, number>;
  clientCpu: CpuTime;
  serverCpu: CpuTime | null;
}

export interface Progress {
  elapsedMs: number;
  messages: number;
  histogram: Histogram;
  measuring: boolean;
}

const TICK_MS = 250;
const now = (): number => performance.now();

/**
 * Large payloads repeat one random block of this many bytes (a prime, so no
 * power-of-two fragment or read size lines up with it: a block echoed out of
 * place or twice differs from what is expected there). The echo is still
 * compared byte for byte, but against a block that stays in the CPU cache,
 * where a 4 MiB reference would be streamed from DRAM on every echo — which
 * made the check the generator's largest cost. The server's work does not
 * depend on the bytes.
 */
export const PATTERN_BYTES = 65_521;

/** Payload for a message: random bytes (or printable ASCII for text, valid UTF-8), and the block it repeats. */
function payload(size: number, binary: boolean): { message: Buffer; block: Buffer } {
  const block = Buffer.allocUnsafe(Math.min(size, PATTERN_BYTES));
  randomFillSync(block);
  if (!binary) for (let i = 0; i < block.length; i++) block[i] = 0x20 + (block[i]! % 95);
  if (size <= PATTERN_BYTES) return { message: block, block };
  const message = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += PATTERN_BYTES) block.copy(message, at, 0, Math.min(PATTERN_BYTES, size - at));
  return { message, block };
}

function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

/**
 * Checks an echo piece by piece against the message sent: each piece is
 * compared where it lands (no reassembly copy), the length and type at the
 * last one. Returns null while the message is incomplete, 'ok' when it is
 * complete and equal, or one line saying how it differs.
 */
class EchoCheck {
  #at = 0;
  readonly length: number;
  readonly block: Buffer;

  constructor(sent: { message: Buffer; block: Buffer }, public binary: boolean) {
    this.length = sent.message.length;
    this.block = sent.block;
  }

  piece(data: Uint8Array, binary: boolean, fin: boolean): string | null {
    const at = this.#at;
    const end = at + data.length;
    if (binary !== this.binary) return `echoed as ${binary ? 'binary' : 'text'}, sent as ${this.binary ? 'binary' : 'text'}`;
    if (end > this.length) return `echo is longer than the ${this.length} bytes sent`;
    const block = this.block;
    const period = block.length;
    for (let off = 0; off < data.length;) {
      const p = (at + off) % period;
      const n = Math.min(data.length - off, period - p);
      if (block.compare(data, off, off + n, p, p + n) !== 0) {
        let i = 0;
        while (data[off + i] === block[p + i]) i++;
        const got = data[off + i]!, want = block[p + i]!;
        return `echo differs from what was sent at byte ${at + off + i} (got 0x${got.toString(16).padStart(2, '0')}, sent 0x${want.toString(16).padStart(2, '0')})`;
      }
      off += n;
    }
    this.#at = end;
    if (!fin) return null;
    this.#at = 0;
    return end === this.length ? 'ok' : `echo has ${end} bytes, sent ${this.length}`;
  }
}

/** Counts, times and stops one round; shared by every workload's loops. */
class Meter {
  readonly histogram = new Histogram();
  readonly timeline: number[] = [];
  measuring = false;
  /** False once the round is over: loops stop sending. */
  sending = true;
  messages = 0;
  bytes = 0;
  startedAt = 0;
  stoppedAt = 0;
  lastProgressAt = now();
  cpuStart: CpuTime = clientCpu();
  cpuEnd: CpuTime = this.cpuStart;
  serverStart: CpuTime | null = null;
  serverEnd: CpuTime | null = null;
  #tickMessages = 0;
  #timers: NodeJS.Timeout[] = [];
  #running = 0;
  #settle!: (error: RunError | null) => void;
  readonly done: Promise<void>;

  constructor(private limits: RoundLimits, private target: Target, private onProgress: ((p: Progress) => void) | undefined) {
    this.done = new Promise((resolve, reject) => {
      this.#settle = (error) => { if (error === null) resolve(); else reject(error); };
    });
  }

  start(): void {
    const begin = (): void => {
      this.measuring = true;
      this.startedAt = now();
      this.lastProgressAt = this.startedAt;
      this.cpuStart = clientCpu();
      if (this.target.serverPid !== undefined) this.serverStart = processCpu(this.target.serverPid);
      if (this.limits.durationMs > 0) this.#timers.push(setTimeout(() => this.stop(), this.limits.durationMs));
    };
    // The timeline's intervals start when measuring starts; the warm-up has its own ticker (progress, stalls).
    const warmTicker = setInterval(() => this.#tick(), TICK_MS);
    const measure = (): void => {
      clearInterval(warmTicker);
      begin();
      this.#timers.push(setInterval(() => this.#tick(), TICK_MS));
    };
    this.#timers.push(warmTicker);
    if (this.limits.warmupMs > 0) this.#timers.push(setTimeout(measure, this.limits.warmupMs));
    else measure();
  }

  #tick(): void {
    const t = now();
    if (this.measuring && this.sending) {
      this.timeline.push(this.#tickMessages);
      this.#tickMessages = 0;
    }
    if (this.sending && t - this.lastProgressAt > this.limits.timeoutMs) {
      this.fail(new RunError(`${this.target.url.href}: no reply within ${this.limits.timeoutMs} ms (server stalled?)`));
      return;
    }
    this.onProgress?.({ elapsedMs: this.measuring ? t - this.startedAt : 0, messages: this.messages, histogram: this.histogram, measuring: this.measuring });
  }

  /** One completed operation with its round-trip time. */
  record(startedAt: number, bytes: number): void {
    const t = now();
    this.lastProgressAt = t;
    if (!this.measuring || !this.sending) return;
    this.histogram.record((t - startedAt) * 1000);
    this.messages++;
    this.#tickMessages++;
    this.bytes += bytes;
    if (this.limits.messages > 0 && this.messages >= this.limits.messages) this.stop();
  }

  stop(): void {
    if (!this.sending) return;
    this.sending = false;
    if (!this.measuring) { this.measuring = true; this.startedAt = now(); }
    this.stoppedAt = now();
    this.cpuEnd = clientCpu();
    if (this.target.serverPid !== undefined) this.serverEnd = processCpu(this.target.serverPid);
    if (this.#tickMessages > 0 || this.timeline.length === 0) this.timeline.push(this.#tickMessages);
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#running === 0) { this.#settle(null); return; }
    // Operations still in flight must complete (their echoes are verified too), but not forever.
    const late = setTimeout(() => this.fail(new RunError(`${this.target.url.href}: no reply within ${this.limits.timeoutMs} ms (server stalled?)`)), this.limits.timeoutMs);
    void this.done.then(() => clearTimeout(late), () => clearTimeout(late));
  }

  /** A loop starts; it calls loopDone() when it has stopped sending and has nothing in flight. */
  loopStarted(): void {
    this.#running++;
  }

  loopDone(): void {
    if (--this.#running === 0 && !this.sending) this.#settle(null);
  }

  fail(error: RunError): void {
    this.sending = false;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#settle(error);
  }
}

/** Closed loop of one connection: send a message, await its echo, verify, repeat. */
function echoLoop(c: BenchConnection, p: WorkloadParams, limits: RoundLimits, meter: Meter): void {
  const sent = payload(p.size, p.binary);
  const message = sent.message;
  const options = { binary: p.binary, fragmentSize: p.fragment };
  const frames = concat(c.encoder.message(message, options));
  const check = new EchoCheck(sent, p.binary);
  let sentAt = 0;
  let n = 0;
  const send = (): void => {
    sentAt = now();
    c.write(limits.freshMasks ? concat(c.encoder.message(message, options)) : frames);
  };
  c.onPiece = (data, binary, fin) => {
    const verdict = check.piece(data, binary, fin);
    if (verdict === null) return;
    if (verdict !== 'ok') { meter.fail(new RunError(`${p.workload}: message ${n}: ${verdict}`)); return; }
    n++;
    meter.record(sentAt, p.size);
    if (meter.sending) send(); else meter.loopDone();
  };
  meter.loopStarted();
  send();
}

/** `count` different messages written in one go; each echo is checked in order; then again. */
function pipelineLoop(c: BenchConnection, p: WorkloadParams, limits: RoundLimits, meter: Meter): void {
  const sent = Array.from({ length: p.count }, () => payload(p.size, p.binary));
  const checks = sent.map((m) => new EchoCheck(m, p.binary));
  const options = { binary: p.binary, fragmentSize: p.fragment };
  const encode = (): Buffer => concat(sent.flatMap((m) => c.encoder.message(m.message, options)));
  const batch = encode();
  let sentAt = 0;
  let i = 0;
  let batches = 0;
  const send = (): void => {
    sentAt = now();
    c.write(limits.freshMasks ? encode() : batch);
  };
  c.onPiece = (data, binary, fin) => {
    const verdict = checks[i]!.piece(data, binary, fin);
    if (verdict === null) return;
    if (verdict !== 'ok') { meter.fail(new RunError(`pipeline: batch ${batches} message ${i}: ${verdict}`)); return; }
    meter.record(sentAt, p.size);
    if (++i < p.count) return;
    i = 0;
    batches++;
    if (meter.sending) send(); else meter.loopDone();
  };
  meter.loopStarted();
  send();
}

/** Ping, await the pong with the same payload (§5.5.3), repeat. */
function pingLoop(c: BenchConnection, p: WorkloadParams, limits: RoundLimits, meter: Meter): void {
  const sent = payload(p.size, true);
  const body = sent.message;
  const frames = concat(c.encoder.ping(body));
  let sentAt = 0;
  const send = (): void => {
    sentAt = now();
    c.write(limits.freshMasks ? concat(c.encoder.ping(body)) : frames);
  };
  const check = new EchoCheck(sent, true);
  c.onPong = (data) => {
    const verdict = check.piece(data, true, true);
    if (verdict !== 'ok') { meter.fail(new RunError(`ping: pong payload: ${verdict}`)); return; }
    meter.record(sentAt, p.size);
    if (meter.sending) send(); else meter.loopDone();
  };
  c.onPiece = () => meter.fail(new RunError('ping: the server sent a data message that was not asked for'));
  meter.loopStarted();
  send();
}

/** Open (connect + upgrade, timed), close with the closing handshake, repeat. */
function connectLoop(target: Target, open: OpenOptions, meter: Meter, closeCodes: Record<string, number>): void {
  const cycle = async (): Promise<void> => {
    while (meter.sending) {
      const t0 = now();
      const c = await BenchConnection.open(target.url, open);
      const counted = meter.measuring && meter.sending;
      c.onFailure = (error) => meter.fail(error);
      await c.close(open.timeoutMs);
      if (counted) {
        meter.record(t0, 0);
        closeCodes[String(c.closeCode ?? 'none')] = (closeCodes[String(c.closeCode ?? 'none')] ?? 0) + 1;
      }
    }
  };
  meter.loopStarted();
  cycle().then(() => meter.loopDone(), (error: RunError) => meter.fail(error));
}

/**
 * One round: open the connections, warm up, measure for the duration (or the
 * message limit), close every connection with the closing handshake.
 */
export async function runRound(target: Target, p: WorkloadParams, limits: RoundLimits, onProgress?: (p: Progress) => void): Promise<RoundResult> {
  const open: OpenOptions = {
    timeoutMs: limits.timeoutMs,
    maxMessageSize: Math.max(64 * 2 ** 20, p.size + 1024),
    ...(limits.dial === undefined ? {} : { dial: limits.dial }),
  };
  const meter = new Meter(limits, target, onProgress);
  const closeCodes: Record<string, number> = {};
  const connections: BenchConnection[] = [];
  try {
    if (p.workload === 'connect') {
      meter.start();
      for (let i = 0; i < p.connections; i++) connectLoop(target, open, meter, closeCodes);
      await meter.done;
    } else {
      const opened = await Promise.allSettled(Array.from({ length: p.connections }, () => BenchConnection.open(target.url, open)));
      for (const r of opened) if (r.status === 'fulfilled') connections.push(r.value);
      const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      for (const c of connections) c.onFailure = (error) => meter.fail(error);
      meter.start();
      for (const c of connections) {
        if (p.workload === 'pipeline') pipelineLoop(c, p, limits, meter);
        else if (p.workload === 'ping') pingLoop(c, p, limits, meter);
        else echoLoop(c, p, limits, meter);
      }
      await meter.done;
      await Promise.all(connections.map((c) => c.close(limits.timeoutMs)));
      for (const c of connections) closeCodes[String(c.closeCode ?? 'none')] = (closeCodes[String(c.closeCode ?? 'none')] ?? 0) + 1;
    }
  } catch (error) {
    for (const c of connections) c.destroy();
    throw error;
  }
  const serverCpu = meter.serverStart !== null && meter.serverEnd !== null ? cpuDelta(meter.serverStart, meter.serverEnd) : null;
  return {
    seconds: (meter.stoppedAt - meter.startedAt) / 1000,
    messages: meter.messages,
    bytes: meter.bytes,
    histogram: meter.histogram,
    timeline: meter.timeline,
    timelineIntervalMs: TICK_MS,
    closeCodes,
    clientCpu: cpuDelta(meter.cpuStart, meter.cpuEnd),
    serverCpu,
  };
}
