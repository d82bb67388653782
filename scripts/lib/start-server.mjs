// Starts an echo server in its own process (from the repository root) and
// resolves { child, port, pid } once it prints where it listens: either
// `listening PORT PID` (scripts/echo-server.mjs, server-floor.mjs --serve) or
// `... ws://127.0.0.1:PORT` (npm run echo).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function startServer(args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening (\d+) (\d+)/.exec(out) ?? /ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), pid: Number(m[2] ?? child.pid) });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}
