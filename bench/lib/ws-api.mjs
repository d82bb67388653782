// Workload 8 (informational, not gated): what the ws-compatible API costs.
// - the same echo server through native accept(), wsframe/ws and ws, all
//   running at once under one raw client each (bench/ws-facade.mjs), measured
//   in alternating windows: server CPU per operation, the facade as a ratio of
//   native (issue target: at most 1.10; the median of the per-window ratios);
// - socket.io over wsframe/ws against socket.io over ws (bench/socketio.mjs),
//   both servers up at once, alternating windows: server CPU per echo round
//   trip (emitWithAck) and per broadcast to 1,000 clients (200 with --quick).
import { measureSideBySide as facadeSideBySide, workloads as facadeWorkloads } from '../ws-facade.mjs';
import { measureSideBySide as socketioSideBySide, summarise as socketioSummary } from '../socketio.mjs';

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values, digits) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;

export async function w8(ctx) {
  const rows = [];
  const base = { group: 'w8', gated: false, targets: [], clock: 'cpu', kind: 'info' };
  const windows = ctx.quick ? 5 : 9;
  for (const [index, workload] of facadeWorkloads.entries()) {
    const key = index === 0 ? 'ref' : 'pipe';
    const input = workload.build();
    const rounds = ctx.quick ? Math.ceil(workload.rounds / 2) : workload.rounds;
    const [native, facade, ws] = await facadeSideBySide([['native', false], ['facade', false], ['ws', false]], input, { windows, rounds });
    const facadeRatio = median(facade.map((v, w) => v / native[w]));
    const note = (values) => `${median(values).toFixed(2)} µs/op (${spread(values, 2)} over ${windows} windows)`;
    rows.push({ ...base, id: `w8.${key}.native`, label: `${workload.name}: native accept(), server CPU per op`, impl: 'wsframe', medianMs: median(native) / 1000, note: note(native) });
    rows.push({ ...base, id: `w8.${key}.facade`, label: `${workload.name}: wsframe/ws, server CPU per op`, impl: 'wsframe', medianMs: median(facade) / 1000, vs: `w8.${key}.ws`, note: `${note(facade)}, ${facadeRatio.toFixed(2)} × native (target ≤ 1.10)` });
    rows.push({ ...base, id: `w8.${key}.ws`, label: `${workload.name}: ws 8, server CPU per op`, impl: 'ws', medianMs: median(ws) / 1000, note: note(ws) });
  }
  const clients = ctx.quick ? 200 : 1000;
  const results = await socketioSideBySide(['wsframe', 'ws'], clients, { windows: ctx.quick ? 5 : 7, echoes: ctx.quick ? 200 : 500, broadcasts: 5 });
  const s = socketioSummary(results);
  rows.push({ ...base, id: 'w8.socketio.echo.wsframe', label: 'socket.io over wsframe/ws: echo round trip (emitWithAck), server CPU', impl: 'wsframe', medianMs: s.wsframe.echo / 1000, vs: 'w8.socketio.echo.ws', note: `${s.ratio.echo.toFixed(2)} × ws (median of per-window ratios)` });
  rows.push({ ...base, id: 'w8.socketio.echo.ws', label: 'socket.io over ws: echo round trip (emitWithAck), server CPU', impl: 'ws', medianMs: s.ws.echo / 1000 });
  rows.push({ ...base, id: 'w8.socketio.broadcast.wsframe', label: `socket.io over wsframe/ws: broadcast to ${clients} clients, server CPU`, impl: 'wsframe', medianMs: s.wsframe.broadcast / 1000, vs: 'w8.socketio.broadcast.ws', note: `${s.ratio.broadcast.toFixed(2)} × ws (median of per-window ratios)` });
  rows.push({ ...base, id: 'w8.socketio.broadcast.ws', label: `socket.io over ws: broadcast to ${clients} clients, server CPU`, impl: 'ws', medianMs: s.ws.broadcast / 1000 });
  return rows;
}
