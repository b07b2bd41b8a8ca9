// Parsers for the per-process files under /proc/<pid>/ and for /etc/passwd. Pure functions on
// text, so the reader can be tested on fixture trees and the parsing on strings.
import { commandName, redactArgv, type ProcessCmdlineMode } from './redact-cmdline.js';

/** What the process table needs from /proc/<pid>/stat. */
export interface PidStat {
  /** comm: the short name, at most 15 bytes in the kernel, but any bytes (spaces, `)`…). */
  readonly comm: string;
  /** One letter: R running, S sleeping, D disk wait, Z zombie, T stopped, I idle kernel thread… */
  readonly state: string;
  /** utime + stime, in USER_HZ ticks. */
  readonly cpuTicks: number;
  readonly threads: number;
  /** Start time after boot, in USER_HZ ticks: with the pid, it names one process (pids are reused). */
  readonly startTicks: number;
  /** Resident set, in pages. */
  readonly rssPages: number;
}

/**
 * Parses `pid (comm) S ppid …`. comm sits between the first `(` and the LAST `)`: it can hold
 * both `)` and spaces, while every field after it is a number or the state letter. Undefined
 * when the text is not a stat line (truncated read, foreign file).
 */
export function parsePidStat(text: string): PidStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const comm = text.slice(open + 1, close);
  // Fields after comm, numbered as in proc(5) minus 3: [0] is field 3 (state).
  const f = text.slice(close + 2).split(' ');
  const state = f[0];
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const threads = Number(f[17]);
  const startTicks = Number(f[19]);
  const rssPages = Number(f[21]);
  if (state === undefined || state.length !== 1) return undefined;
  if (![utime, stime, threads, startTicks, rssPages].every((n) => Number.isFinite(n) && n >= 0)) return undefined;
  return { comm, state, cpuTicks: utime + stime, threads, startTicks, rssPages };
}

/** read_bytes and write_bytes of /proc/<pid>/io: what reached the storage layer, not the page cache. */
export interface PidIo {
  readonly readBytes: number;
  readonly writeBytes: number;
}

export function parsePidIo(text: string): PidIo | undefined {
  const read = /^read_bytes:\s*(\d+)$/m.exec(text);
  const write = /^write_bytes:\s*(\d+)$/m.exec(text);
  if (!read || !write) return undefined;
  return { readBytes: Number(read[1]), writeBytes: Number(write[1]) };
}

export const MAX_CMD_CHARS = 256;
export const MAX_NAME_CHARS = 64;

/**
 * The command line as a shell would show it: arguments are NUL-separated (with a trailing
 * NUL), shown space-joined and shortened to MAX_CMD_CHARS. Kernel threads (and zombies) have
 * an empty cmdline; they are shown as `[comm]`, as ps does. `mode` is `--process-cmdline`:
 * `full` (the default) with secrets masked (redact-cmdline.ts) before shortening, so a cut
 * never leaves half a secret; `name`, argv[0]'s basename only; `none`, nothing.
 */
export function formatCmdline(raw: string, comm: string, mode: ProcessCmdlineMode = 'full'): string {
  if (mode === 'none') return '';
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return shorten(`[${comm}]`, MAX_CMD_CHARS);
  const argv = raw.slice(0, end).split('\0');
  if (mode === 'name') return shorten(commandName(argv[0]!, comm), MAX_CMD_CHARS);
  return shorten(redactArgv(argv, MAX_CMD_CHARS).join(' '), MAX_CMD_CHARS);
}

/** Cuts to at most `max` UTF-16 units, marking the cut with an ellipsis. */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** uid → user name from /etc/passwd (`name:x:uid:gid:…`); malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, , uid] = line.split(':');
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    const n = Number(uid);
    // The first entry wins, as with getpwuid.
    if (!users.has(n)) users.set(n, name);
  }
  return users;
}
