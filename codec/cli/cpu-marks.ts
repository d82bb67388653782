// CPU time of a CLI server for a harness that forks it with an IPC channel
// (the bench: bench/lib/server-child.mjs speaks the same protocol). 'mark'
// starts counting ({ marked: true } once done), 'read' answers
// { cpuMicros, processes }: the CPU time (user + system) used since the mark
// by this process and, in a node:cluster primary, by every worker too, each
// read by the process itself (process.cpuUsage()), not sampled from outside.
// Without an IPC channel (`npm run echo` from a shell) nothing is installed.
import cluster, { type Worker } from 'node:cluster';

type Reply = { marked: true } | { cpuMicros: number; processes: number };

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
  const reply = (message: Reply): void => { send(message); };
  if (cluster.isWorker) {
    process.on('message', (message) => {
      if (message === 'mark') { mark = process.cpuUsage(); reply({ marked: true }); }
      else if (message === 'read') reply({ cpuMicros: used(mark), processes: 1 });
    });
    return;
  }
  process.on('message', (message) => {
    if (message === 'mark') {
      void askWorkers<boolean>('mark', 'marked').then(() => { mark = process.cpuUsage(); reply({ marked: true }); });
    } else if (message === 'read') {
      const own = used(mark);
      void askWorkers<number>('read', 'cpuMicros').then((micros) => {
        reply({ cpuMicros: own + micros.reduce((sum, m) => sum + m, 0), processes: 1 + micros.length });
      });
    }
  });
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
