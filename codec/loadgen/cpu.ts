// CPU time of the generator (process.cpuUsage) and, when its PID is given, of
// the server under test (Linux /proc/PID/stat utime + stime), so a report can
// show that the generator was not the limit.
import { readFileSync } from 'node:fs';

export interface CpuTime {
  userMs: number;
  systemMs: number;
}

export function clientCpu(): CpuTime {
  const u = process.cpuUsage();
  return { userMs: u.user / 1000, systemMs: u.system / 1000 };
}

/** Clock ticks per second of /proc times; 100 on every Linux build in use (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = 100;

/** A process's CPU time so far (all its threads), or null where /proc is unavailable or the process is gone. */
export function processCpu(pid: number): CpuTime | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // Field 2 (comm) may contain spaces and parentheses: fields are counted after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc(5), i.e. 11 and 12 after comm.
  const utime = Number(fields[11]), stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { userMs: (utime * 1000) / CLOCK_TICKS, systemMs: (stime * 1000) / CLOCK_TICKS };
}

export function cpuDelta(before: CpuTime, after: CpuTime): CpuTime {
  return { userMs: after.userMs - before.userMs, systemMs: after.systemMs - before.systemMs };
}
