// `--workers N|auto` for the CLI servers: the process becomes a node:cluster
// primary that forks N workers sharing one listening socket (the primary
// accepts and hands each connection to a worker in turn, node:cluster's
// default on Linux), so every core serves connections. 1 (the default) runs
// the server in this process, with no cluster at all.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';

/** Parses `--workers`: a positive integer, or 'auto' for one per core. */
export function workerCount(value: string): number {
  if (value === 'auto') return availableParallelism();
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--workers must be a positive integer or 'auto', got ${value}`);
  return count;
}

/**
 * True in the process that should run the server itself (a worker, or the
 * only process); in a primary of several workers, forks them and returns false.
 * The primary prints `listeningLine(port)` once every worker listens, and
 * passes SIGINT/SIGTERM on to them.
 */
export function runsServer(workers: number, listeningLine: (address: string) => string): boolean {
  if (workers <= 1 || !cluster.isPrimary) return true;
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    // Workers print their own listening line; the primary prints one for all.
    worker.process.stdout?.resume();
  }
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) console.log(listeningLine(`${address.address}:${address.port}`) + ` (${workers} workers)`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return false;
}
