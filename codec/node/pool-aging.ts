// The message pool (core/message-pool.ts) holds a share of idle buffers
// strongly for each recycling decoder alive, so that a busy server's buffers
// survive its own garbage collections. The core has no timers (sans-I/O), so
// this adapter ages the pool: every AGING_PERIOD_MS it demotes the buffers
// idle since the previous period to WeakRefs, which the garbage collector
// may then take. A server whose traffic stops gives that memory back after
// 15-30 s; one that keeps busy keeps its buffers resident.
import { loosenIdleBuffers } from '../core/message-pool.js';

const AGING_PERIOD_MS = 15_000;

let timer: ReturnType<typeof setInterval> | null = null;

/** Starts aging the pool, once per process; the timer never keeps the process alive. */
export function agePool(): void {
  if (timer !== null) return;
  timer = setInterval(loosenIdleBuffers, AGING_PERIOD_MS);
  timer.unref();
}
