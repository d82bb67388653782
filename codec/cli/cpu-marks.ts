// CPU time of a CLI server for a harness that forks it with an IPC channel
// (the bench: bench/lib/server-child.mjs speaks the same protocol). 'mark'
// starts counting ({ marked: true } once done), 'read' answers
// { cpuMicros, elapsedMs, processes, perProcess }: the CPU time (user +
// system) used since the mark by this process and, in a node:cluster
// primary, by every worker too (summed), each read by the process itself
// (process.cpuUsage()), not sampled from outside; the wall time since the
// mark; and each process's own pair (a busy worker sees 'mark' and 'read'
// later than the primary), so the harness can turn CPU time into a rate over
// each process's own window.
// Without an IPC channel (`npm run echo` from a shell) nothing is installed.
import cluster, { type Worker } from 'node:cluster';

interface Reading { cpuMicros: number; elapsedMs: number }
type Reply = { marked: true } | (Reading & { processes: number; perProcess: Reading[] });

function used(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

/** Sends `message` to every worker and resolves with each one's reply field `key`. */
function askWorkers<T>(message: string, key: string): Promise<T[]> {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  return Promise.all(workers.map((worker) => new Promise<T>((resolve) => {
    const listener = (reply: Record<string, T> | null): void => {
      if (reply === null || typeof reply !== 'object' || !(key in reply)) return;
      worker.off('message', listener);
      resolve(reply[key]!);
    };
    worker.on('message', listener);
    worker.send(message);
  })));
}

/**
 * Installs the answers, in whichever role this process has: a cluster worker
 * answers for itself (to the primary); a primary or a lone server answers its
 * harness, a primary summing its workers' answers with its own. A lone server
 * or primary whose harness goes away stops as on SIGTERM.
 */
export function answerCpuMarks(): void {
  const send = process.send?.bind(process);
  if (send === undefined) return;
  let mark = process.cpuUsage();
  let markedAt = performance.now();
  const reply = (message: Reply): void => { send(message); };
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message === 'mark') {
        mark = process.cpuUsage();
        markedAt = performance.now();
        reply({ marked: true });
      }
      else if (message === 'read') {
        const own = { cpuMicros: used(mark), elapsedMs: performance.now() - markedAt };
        reply({ ...own, processes: 1, perProcess: [own] });
      }
    });
    return;
  }
  process.on('message', (message) => {
    if (message === 'mark') {
      void askWorkers<boolean>('mark', 'marked').then(() => {
        mark = process.cpuUsage();
        markedAt = performance.now();
        reply({ marked: true });
      });
    } else if (message === 'read') {
      const own = { cpuMicros: used(mark), elapsedMs: performance.now() - markedAt };
      void askWorkers<Reading[]>('read', 'perProcess').then((workers) => {
        const perProcess = [own, ...workers.flat()];
        reply({ cpuMicros: perProcess.reduce((sum, r) => sum + r.cpuMicros, 0), elapsedMs: own.elapsedMs, processes: perProcess.length, perProcess });
      });
    }
  });
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
