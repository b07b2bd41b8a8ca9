// CPU time and memory of another process, read from /proc. CPU time comes from each
// thread's schedstat (nanoseconds), far finer than the 10 ms clock ticks of /proc/<pid>/stat.
import { readdirSync, readFileSync } from 'node:fs';

export function cpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return total;
}

export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
