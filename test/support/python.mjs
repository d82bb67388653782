// Run the Python `websockets` peers (test/support/py/*.py) as child processes.
// Every child is killed on timeout, and servers exit when their stdin closes.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { withTimeout } from './util.mjs';

const dir = fileURLToPath(new URL('./py/', import.meta.url));

/** { python, version } for the first interpreter that has `websockets`, or { missing }. */
export function findPython() {
  const tried = [];
  // Debian's interpreter first: python3-websockets installs into /usr/lib/python3/dist-packages.
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8', timeout: 15000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
    tried.push(`${python}: ${r.error?.code ?? (r.stderr.trim().split('\n').pop() || `exit ${r.status}`)}`);
  }
  return { missing: `python3-websockets not installed (apt-get install python3-websockets): ${tried.join('; ')}` };
}

function lines(child) {
  const out = [];
  const waiters = new Set();
  createInterface({ input: child.stdout }).on('line', (line) => {
    let obj;
    try { obj = JSON.parse(line); } catch { obj = { raw: line }; }
    out.push(obj);
    for (const w of waiters) w();
  });
  const waitLine = (pred, ms, what) => {
    let check;
    return withTimeout(new Promise((resolve) => {
      check = () => { const hit = out.find(pred); if (hit) { waiters.delete(check); resolve(hit); } };
      waiters.add(check);
      check();
    }), ms, what).finally(() => waiters.delete(check));
  };
  return { out, waitLine };
}

/** Run client.py to completion; resolves { out: [json lines], code, stderr }. */
export function runClient(python, args, ms = 30000) {
  const child = spawn(python, ['-B', `${dir}client.py`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { out } = lines(child);
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ out, code, signal, stderr })));
  return withTimeout(exited, ms, `python client.py ${args.join(' ')}`).catch((err) => {
    child.kill('SIGKILL');
    err.message += `\nstdout: ${JSON.stringify(out)}\nstderr: ${stderr}`;
    throw err;
  });
}

/** Start server.py; resolves { url, out, waitLine, close() } once it listens. */
export async function startPythonServer(python) {
  const child = spawn(python, ['-B', `${dir}server.py`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const { out, waitLine } = lines(child);
  let port;
  try {
    ({ port } = await Promise.race([
      waitLine((l) => l.port, 15000, 'python server to listen'),
      exited.then((code) => { throw new Error(`python server exited (${code}) before listening`); }),
    ]));
  } catch (err) {
    child.kill('SIGKILL');
    err.message += `\nstderr: ${stderr}`;
    throw err;
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    out,
    stderr: () => stderr,
    waitLine,
    async close() {
      child.stdin.end();
      try {
        await withTimeout(exited, 3000, 'python server exit');
      } catch {
        child.kill('SIGKILL');
        await withTimeout(exited, 3000, 'python server kill');
      }
    },
  };
}
