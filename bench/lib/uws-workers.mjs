// Child process for the every-core rows (every-core.mjs): uWebSockets.js echo
// on `argv[2]` threads. 1: one App in this thread (as uws-echo.mjs everywhere
// else). N: N worker_threads, each with its own App — uWS's own way to use
// several cores. This build (20.30) neither sets SO_REUSEPORT on Linux (a
// second listen on the same port fails) nor has the acceptor/child-app
// descriptors of later uWS.js, so each thread listens on its own port and the
// load generator deals its connections out round-robin across the ports —
// the same even split node:cluster's round-robin gives wsframe's workers.
// Answers the server-child.mjs CPU protocol ('read' also gives the wall time
// since the mark); process.cpuUsage() is process-wide, so the reading covers
// every thread. Ends when the parent
// disconnects.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startUwsEcho } from './uws-echo.mjs';

const MAX = 64 * 2 ** 20;

if (!isMainThread) {
  parentPort.postMessage(await startUwsEcho({ maxPayload: workerData.maxPayload }));
} else {
  const threads = Math.max(1, Number(process.argv[2]) || 1);
  const started = threads === 1
    ? [await startUwsEcho({ maxPayload: MAX })]
    : await Promise.all(Array.from({ length: threads }, () => new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { maxPayload: MAX } });
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
  // server-child.mjs's mark/read protocol, the reply with the wall time since the mark as well
  let mark = process.cpuUsage();
  let markedAt = performance.now();
  process.on('message', (message) => {
    if (message === 'mark') {
      mark = process.cpuUsage();
      markedAt = performance.now();
      process.send({ marked: true });
    } else if (message === 'read') {
      const used = process.cpuUsage(mark);
      process.send({ cpuMicros: used.user + used.system, elapsedMs: performance.now() - markedAt, processes: 1 });
    }
  });
  // Worker threads holding live uWS apps cannot be torn down by process.exit()
  // (Node aborts on their open loop handles): the threaded server ends itself by SIGKILL.
  process.on('disconnect', () => (threads === 1 ? process.exit(0) : process.kill(process.pid, 'SIGKILL')));
  const error = started.find((s) => s.error)?.error ?? null;
  process.send({ ready: true, ports: error ? [] : started.map((s) => s.port), error });
}
