// The two halves of a server measured in its own process: the child answers
// 'mark' (start counting its CPU time), 'read' (CPU microseconds since the
// mark) and 'exit'; the parent asks and waits for the reply field it names.
//
// With WSFRAME_BENCH_PROFILE=DIR in the environment, the child also runs V8's
// CPU profiler from each 'mark' to the next 'read' and writes
// DIR/<label>-<n>.cpuprofile (label: WSFRAME_BENCH_PROFILE_LABEL, default
// 'server'), so that only the measured window is profiled.
import fs from 'node:fs';
import path from 'node:path';

/** In the server child: answers the parent's requests; `other(message)` gets the rest. */
export function serveCpuMarks(other = () => {}) {
  const profiler = windowProfiler(process.env.WSFRAME_BENCH_PROFILE, process.env.WSFRAME_BENCH_PROFILE_LABEL ?? 'server');
  let mark = process.cpuUsage();
  process.on('message', async (message) => {
    if (message === 'mark') {
      await profiler?.start();
      mark = process.cpuUsage();
      process.send({ marked: true });
    } else if (message === 'read') {
      const used = process.cpuUsage(mark);
      await profiler?.stop();
      process.send({ cpuMicros: used.user + used.system });
    } else if (message === 'exit') {
      process.exit(0);
    } else {
      other(message);
    }
  });
}

/** A CPU profiler (node:inspector) started and stopped around each measured window; null without a directory. */
function windowProfiler(dir, label) {
  if (dir === undefined || dir === '') return null;
  let session = null;
  let count = 0;
  const post = (method, params) => new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
  return {
    async start() {
      if (session === null) {
        const { Session } = await import('node:inspector');
        session = new Session();
        session.connect();
        await post('Profiler.enable');
      }
      await post('Profiler.start');
    },
    async stop() {
      const { profile } = await post('Profiler.stop');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${label}-${count++}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

/** In the parent: `ask(message, key)` sends `message` (null: none) and resolves with the child's next reply holding `key`. */
export function asker(child) {
  return (message, key) => new Promise((resolve) => {
    const listener = (reply) => {
      if (key in reply) {
        child.off('message', listener);
        resolve(reply[key]);
      }
    };
    child.on('message', listener);
    if (message !== null) child.send(message);
  });
}
