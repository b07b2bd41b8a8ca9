// One pass over /proc/<pid>/ for the process table, like top: every process's stat (and io,
// where readable) so CPU and I/O rates can be computed for any process that makes the cut,
// then cmdline and owner for the few rows that do. No process is spawned; each file is read
// with open/read/close into one reused buffer (readFileSync would fstat every file first,
// and procfs reports size 0 anyway).
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/log.js';
import { MAX_PROCESS_ROWS, type ProcessRow } from '../../shared/protocol.js';
import { readText } from '../collectors/sysfs.js';
import { formatCmdline, MAX_NAME_CHARS, parsePasswd, parsePidIo, parsePidStat, shorten, type PidIo, type PidStat } from './proc-pid.js';
import type { ProcessCmdlineMode } from './redact-cmdline.js';

/**
 * USER_HZ: the unit of every tick count in /proc/<pid>/stat. It is 100 on every Linux
 * architecture (the kernel converts from its internal HZ), so it is assumed, not asked for
 * with `getconf CLK_TCK` (a spawn).
 */
export const CLOCK_TICKS_PER_S = 100;
export const DEFAULT_PAGE_SIZE = 4096;
export const DEFAULT_TOP_PROCESSES = 10;

export interface ProcessReaderOptions {
  readonly procRoot: string;
  /** Where the host's /etc/passwd is (`/` normally, `/host` in a container). */
  readonly hostRoot: string;
  /** N: the table is the top N by CPU ∪ the top N by resident memory. */
  readonly top?: number;
  /** Bytes per page, for the resident set size (stat counts pages). */
  readonly pageSize?: number;
  /** What `cmd` holds: the command line with secrets masked (default), the executable's name, or nothing. */
  readonly cmdline?: ProcessCmdlineMode;
  readonly log: Logger;
}

export interface ProcessScan {
  /** The table's rows, by CPU then memory; undefined on the first scan (no rates yet). */
  readonly rows: ProcessRow[] | undefined;
  /** Processes read in this scan. */
  readonly total: number;
  /** Processes in state R (running or runnable). */
  readonly running: number;
}

/** What the previous scan saw of one process; rates are the step from here. */
interface PidState {
  readonly startTicks: number;
  readonly cpuTicks: number;
  readonly io: PidIo | undefined;
  /** io is unreadable (another user's process): not tried again for this process. */
  readonly ioDenied: boolean;
}

interface Candidate {
  readonly pid: number;
  readonly stat: PidStat;
  readonly cpu: number;
  readonly rss: number;
  readonly readBps: number | undefined;
  readonly writeBps: number | undefined;
}

/** Enough for stat and io; cmdline is cut to 256 characters anyway (4 bytes each at most). */
const READ_BUFFER_BYTES = 4096;
/** starttime and uptime both tick at 1/100 s; a process this close to the last scan counts as new. */
const NEW_PROCESS_SLACK_S = 0.02;
/**
 * Shortest window rates are computed over: ticks are 10 ms, so over 100 ms one tick more or
 * less is 10 points of CPU. A scan sooner than this after the last gives counts only and
 * keeps the old baseline.
 */
export const MIN_RATE_WINDOW_MS = 500;

export class ProcessReader {
  private readonly top: number;
  private readonly pageSize: number;
  private readonly users: ReadonlyMap<number, string>;
  private readonly buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private lastErrorCode: string | undefined;
  /** Swapped for a fresh map every scan, so processes that exited drop out by themselves. */
  private pids = new Map<number, PidState>();
  private prevAtMs: number | undefined;
  private prevUptimeS: number | undefined;

  constructor(private readonly opts: ProcessReaderOptions) {
    const top = opts.top ?? DEFAULT_TOP_PROCESSES;
    if (!Number.isInteger(top) || top < 1 || top * 2 > MAX_PROCESS_ROWS) {
      throw new Error(`top processes ${top} is out of range: use a whole number from 1 to ${MAX_PROCESS_ROWS / 2}`);
    }
    this.top = top;
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
    const passwdPath = join(opts.hostRoot, 'etc/passwd');
    const passwd = this.read(passwdPath, Infinity);
    if (passwd === undefined) opts.log.debug({ path: passwdPath, code: this.lastErrorCode }, 'no passwd file; process owners are shown as uids');
    this.users = parsePasswd(passwd ?? '');
  }

  /** Processes tracked from the last scan (for tests: dead ones must not linger). */
  get trackedPids(): number {
    return this.pids.size;
  }

  /**
   * Reads every process once. `nowMs` is a monotonic clock (performance.now()): the CPU and
   * I/O rates are per second of it.
   */
  scan(nowMs: number): ProcessScan {
    const { procRoot } = this.opts;
    let names: string[];
    try {
      names = readdirSync(procRoot);
    } catch (err) {
      throw new Error(`cannot list processes in ${procRoot}: ${(err as Error).message}`);
    }
    const dtS = this.prevAtMs === undefined ? 0 : (nowMs - this.prevAtMs) / 1000;
    const tooSoon = this.prevAtMs !== undefined && nowMs - this.prevAtMs < MIN_RATE_WINDOW_MS;
    const rated = dtS > 0 && !tooSoon;
    const uptimeS = this.readUptimeS();
    const prevUptimeS = this.prevUptimeS;
    const prevPids = this.pids;
    const pids = new Map<number, PidState>();
    const candidates: Candidate[] = [];
    let running = 0;

    for (const name of names) {
      if (!isPidName(name)) continue;
      const pid = Number(name);
      const dir = join(procRoot, name);
      const statText = this.read(join(dir, 'stat'));
      const stat = statText === undefined ? undefined : parsePidStat(statText);
      // Gone between readdir and read, or unreadable: not a process of this scan.
      if (!stat) continue;
      if (stat.state === 'R') running++;

      let prev = prevPids.get(pid);
      // A pid with another start time is a new process that reuses the number.
      if (prev && prev.startTicks !== stat.startTicks) prev = undefined;
      // A process the last scan did not see started since then (its whole usage falls in
      // this interval), unless its start predates the last scan: then it was missed (a failed
      // read) and has no baseline.
      const startedSinceLastScan =
        !prev && (prevUptimeS === undefined || stat.startTicks / CLOCK_TICKS_PER_S >= prevUptimeS - NEW_PROCESS_SLACK_S);
      const baseTicks = prev ? prev.cpuTicks : startedSinceLastScan ? 0 : undefined;
      const cpu = rated && baseTicks !== undefined ? Math.max(0, stat.cpuTicks - baseTicks) / CLOCK_TICKS_PER_S / dtS * 100 : 0;

      const ioDenied = prev?.ioDenied ?? false;
      let io: PidIo | undefined;
      let denied = ioDenied;
      if (!ioDenied) {
        const ioText = this.read(join(dir, 'io'));
        if (ioText === undefined) denied = this.lastErrorCode === 'EACCES' || this.lastErrorCode === 'EPERM';
        else io = parsePidIo(ioText);
      }
      const baseIo = prev ? prev.io : startedSinceLastScan ? ZERO_IO : undefined;
      const ioRates = rated && io && baseIo ? ioRate(baseIo, io, dtS) : undefined;

      pids.set(pid, { startTicks: stat.startTicks, cpuTicks: stat.cpuTicks, io, ioDenied: denied });
      candidates.push({
        pid,
        stat,
        cpu,
        rss: stat.rssPages * this.pageSize,
        readBps: ioRates?.read,
        writeBps: ioRates?.write,
      });
    }

    if (!tooSoon) {
      this.pids = pids;
      this.prevAtMs = nowMs;
      this.prevUptimeS = uptimeS;
    }
    return { rows: rated ? this.toRows(this.select(candidates)) : undefined, total: candidates.length, running };
  }

  /** Top N by CPU ∪ top N by resident memory, by CPU then memory. */
  private select(all: Candidate[]): Candidate[] {
    const byRss = [...all].sort((a, b) => b.rss - a.rss || a.pid - b.pid).slice(0, this.top);
    const byCpu = all.sort(byCpuThenRss).slice(0, this.top);
    const chosen = new Set(byCpu);
    for (const c of byRss) chosen.add(c);
    return [...chosen].sort(byCpuThenRss);
  }

  private toRows(chosen: Candidate[]): ProcessRow[] {
    return chosen.map((c) => {
      const dir = join(this.opts.procRoot, String(c.pid));
      const mode = this.opts.cmdline ?? 'full';
      const cmdline = mode === 'none' ? '' : this.read(join(dir, 'cmdline'));
      const user = this.owner(dir);
      const row: ProcessRow = {
        pid: c.pid,
        name: shorten(c.stat.comm, MAX_NAME_CHARS),
        cmd: formatCmdline(cmdline ?? '', c.stat.comm, mode),
        cpu: round2(c.cpu),
        rss: c.rss,
        threads: c.stat.threads,
      };
      if (user !== undefined) row.user = user;
      if (c.readBps !== undefined) row.readBps = Math.round(c.readBps);
      if (c.writeBps !== undefined) row.writeBps = Math.round(c.writeBps);
      return row;
    });
  }

  /** The owner of /proc/<pid> is the process's effective uid. */
  private owner(dir: string): string | undefined {
    let uid: number;
    try {
      uid = statSync(dir).uid;
    } catch {
      return undefined;
    }
    return shorten(this.users.get(uid) ?? String(uid), MAX_NAME_CHARS);
  }

  private readUptimeS(): number | undefined {
    const text = this.read(join(this.opts.procRoot, 'uptime'));
    const s = text === undefined ? NaN : Number(text.split(' ')[0]);
    return Number.isFinite(s) ? s : undefined;
  }

  /** A small file's text, or undefined (the reason left in lastErrorCode). */
  private read(path: string, limit = READ_BUFFER_BYTES): string | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.lastErrorCode = (err as NodeJS.ErrnoException).code;
      return undefined;
    }
    try {
      if (limit === Infinity) {
        // Only /etc/passwd, once: whatever its size.
        const chunks: Buffer[] = [];
        for (;;) {
          const n = readSync(fd, this.buf, 0, this.buf.length, null);
          if (n === 0) break;
          chunks.push(Buffer.from(this.buf.subarray(0, n)));
        }
        return Buffer.concat(chunks).toString('utf8');
      }
      let used = 0;
      while (used < limit) {
        const n = readSync(fd, this.buf, used, limit - used, null);
        if (n === 0) break;
        used += n;
      }
      return this.buf.toString('utf8', 0, used);
    } catch (err) {
      // /proc/<pid>/io refuses at read time on some kernels (ptrace check), not at open.
      this.lastErrorCode = (err as NodeJS.ErrnoException).code;
      return undefined;
    } finally {
      closeSync(fd);
    }
  }
}

/** True when `procRoot` lists at least one process whose stat parses (probed once at start). */
export function canReadProcesses(procRoot: string): boolean {
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return false;
  }
  return names.some((name) => {
    if (!isPidName(name)) return false;
    const text = readText(join(procRoot, name, 'stat'));
    return text !== undefined && parsePidStat(text) !== undefined;
  });
}

const ZERO_IO: PidIo = { readBytes: 0, writeBytes: 0 };

function ioRate(prev: PidIo, cur: PidIo, dtS: number): { read: number; write: number } | undefined {
  const read = cur.readBytes - prev.readBytes;
  const write = cur.writeBytes - prev.writeBytes;
  // Counters only grow for one process; a step back means they are not comparable.
  if (read < 0 || write < 0) return undefined;
  return { read: read / dtS, write: write / dtS };
}

function byCpuThenRss(a: Candidate, b: Candidate): number {
  return b.cpu - a.cpu || b.rss - a.rss || a.pid - b.pid;
}

function isPidName(name: string): boolean {
  if (name.length === 0 || name.length > 10) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
