// Workload 8 (informational, not gated): what the ws-compatible API costs.
// - the same echo server through native accept(), wsframe/ws and ws, each in
//   its own process under one raw client (bench/ws-facade.mjs): server CPU per
//   operation, the facade as a ratio of native (issue target: at most 1.10);
// - socket.io over wsframe/ws against socket.io over ws (bench/socketio.mjs):
//   server CPU per echo round trip (emitWithAck) and per broadcast to N clients.
import { measure as facadeMeasure, workloads as facadeWorkloads } from '../ws-facade.mjs';
import { measure as socketioMeasure } from '../socketio.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function w8(ctx) {
  const rows = [];
  const repeat = ctx.quick ? 3 : 5;
  for (const [index, workload] of facadeWorkloads.entries()) {
    const key = index === 0 ? 'ref' : 'pipe';
    const input = workload.build();
    const rounds = ctx.quick ? 10 : workload.rounds;
    const cpu = { native: [], facade: [], ws: [] };
    // Interleaved, so that drift on a shared machine hits all three alike.
    for (let r = 0; r < repeat; r++) {
      for (const mode of ['native', 'facade', 'ws']) cpu[mode].push((await facadeMeasure(mode, false, workload, input, rounds)).cpuPerOpUs);
    }
    const base = { group: 'w8', gated: false, targets: [], clock: 'cpu', kind: 'info' };
    const native = median(cpu.native), facade = median(cpu.facade), ws = median(cpu.ws);
    rows.push({ ...base, id: `w8.${key}.native`, label: `${workload.name}: native accept(), server CPU per op`, impl: 'wsframe', medianMs: native / 1000, note: `${native.toFixed(2)} µs/op` });
    rows.push({ ...base, id: `w8.${key}.facade`, label: `${workload.name}: wsframe/ws, server CPU per op`, impl: 'wsframe', medianMs: facade / 1000, vs: `w8.${key}.ws`, note: `${facade.toFixed(2)} µs/op, ${(facade / native).toFixed(2)} × native (target ≤ 1.10)` });
    rows.push({ ...base, id: `w8.${key}.ws`, label: `${workload.name}: ws 8, server CPU per op`, impl: 'ws', medianMs: ws / 1000, note: `${ws.toFixed(2)} µs/op` });
  }
  const clients = ctx.quick ? 200 : 1000;
  const rounds = ctx.quick ? 5 : 20;
  const results = {};
  for (const engine of ['wsframe', 'ws']) results[engine] = await socketioMeasure(engine, clients, rounds);
  const base = { group: 'w8', gated: false, targets: [], clock: 'cpu', kind: 'info' };
  rows.push({ ...base, id: 'w8.socketio.echo.wsframe', label: 'socket.io over wsframe/ws: echo round trip (emitWithAck), server CPU', impl: 'wsframe', medianMs: results.wsframe.echo / 1000, vs: 'w8.socketio.echo.ws' });
  rows.push({ ...base, id: 'w8.socketio.echo.ws', label: 'socket.io over ws: echo round trip (emitWithAck), server CPU', impl: 'ws', medianMs: results.ws.echo / 1000 });
  rows.push({ ...base, id: 'w8.socketio.broadcast.wsframe', label: `socket.io over wsframe/ws: broadcast to ${clients} clients, server CPU`, impl: 'wsframe', medianMs: results.wsframe.broadcast / 1000, vs: 'w8.socketio.broadcast.ws' });
  rows.push({ ...base, id: 'w8.socketio.broadcast.ws', label: `socket.io over ws: broadcast to ${clients} clients, server CPU`, impl: 'ws', medianMs: results.ws.broadcast / 1000 });
  return rows;
}
