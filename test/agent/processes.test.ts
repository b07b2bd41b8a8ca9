// The process table: parsers on strings, the reader on a fixture /proc tree written in a temp
// dir (two scans 5 s apart on the reader's clock → exact rates), the source with fake
// nvidia-smi scripts, the Sampler's cadence, and one run against this machine's real /proc.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Collector } from '../../agent/collectors/collector.js';
import { formatCmdline, parsePasswd, parsePidIo, parsePidStat } from '../../agent/processes/proc-pid.js';
import { ProcessReader } from '../../agent/processes/reader.js';
import { createProcessTableSource, type ProcessTableSource } from '../../agent/processes/source.js';
import { Sampler } from '../../agent/sampler.js';
import { silentLogger } from '../../shared/log.js';
import { ProcessTableSchema, type ProcessRow, type ProcessTable } from '../../shared/protocol.js';
import { tempDir } from '../helpers/temp-dir.js';

const log = silentLogger();
const PAGE = 4096;
const isRoot = process.getuid?.() === 0;

interface Proc {
  pid: number;
  comm: string;
  state?: string;
  utime: number;
  stime: number;
  threads?: number;
  /** starttime, ticks after boot (default 100: started at boot). */
  start?: number;
  rssPages: number;
  cmdline?: string;
  io?: { read: number; write: number } | 'unreadable';
}

/** A /proc/<pid>/stat line as the kernel writes it (52 fields). */
function statLine(p: Proc): string {
  const f = new Array<number | string>(52).fill(0);
  f[0] = p.pid;
  f[1] = `(${p.comm})`;
  f[2] = p.state ?? 'S';
  f[3] = 1; // ppid
  f[13] = p.utime;
  f[14] = p.stime;
  f[19] = p.threads ?? 1;
  f[21] = p.start ?? 100;
  f[22] = 123_456_789; // vsize, bytes: must not be taken for rss
  f[23] = p.rssPages;
  return `${f.join(' ')}\n`;
}

class FixtureProc {
  readonly procRoot: string;
  readonly hostRoot: string;
  constructor(readonly root: string) {
    this.procRoot = join(root, 'proc');
    this.hostRoot = join(root, 'host');
    mkdirSync(this.procRoot, { recursive: true });
    mkdirSync(join(this.hostRoot, 'etc'), { recursive: true });
    // Fixture dirs are owned by whoever runs the test (root, in CI containers): call that uid alice.
    writeFileSync(join(this.hostRoot, 'etc/passwd'), `daemon:x:65534:65534::/:/bin/sh\nalice:x:${process.getuid!()}:1000::/home/alice:/bin/sh\n`);
  }
  uptime(s: number): void {
    writeFileSync(join(this.procRoot, 'uptime'), `${s.toFixed(2)} 1234.56\n`);
  }
  put(p: Proc): void {
    const dir = join(this.procRoot, String(p.pid));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stat'), statLine(p));
    writeFileSync(join(dir, 'cmdline'), p.cmdline ?? '');
    const io = join(dir, 'io');
    rmSync(io, { recursive: true, force: true });
    if (p.io === 'unreadable') {
      // Root reads a mode-000 file anyway: a directory in its place fails at read instead.
      if (isRoot) mkdirSync(io);
      else {
        writeFileSync(io, 'read_bytes: 1\nwrite_bytes: 1\n');
        chmodSync(io, 0o000);
      }
    } else if (p.io) {
      writeFileSync(io, `rchar: 999\nwchar: 999\nsyscr: 1\nsyscw: 1\nread_bytes: ${p.io.read}\nwrite_bytes: ${p.io.write}\ncancelled_write_bytes: 0\n`);
    }
  }
  remove(pid: number): void {
    rmSync(join(this.procRoot, String(pid)), { recursive: true, force: true });
  }
}

const byPid = (rows: readonly ProcessRow[], pid: number): ProcessRow => {
  const row = rows.find((r) => r.pid === pid);
  if (!row) throw new Error(`pid ${pid} not in table ${JSON.stringify(rows.map((r) => r.pid))}`);
  return row;
};

describe('process file parsers', () => {
  it('takes comm up to the LAST parenthesis, so spaces and ")" in names do not shift fields', () => {
    const stat = parsePidStat(statLine({ pid: 9, comm: 'my (weird)) app', state: 'R', utime: 7, stime: 3, threads: 4, start: 555, rssPages: 11 }));
    expect(stat).toEqual({ comm: 'my (weird)) app', state: 'R', cpuTicks: 10, threads: 4, startTicks: 555, rssPages: 11 });
  });

  it('rejects text that is not a stat line', () => {
    expect(parsePidStat('')).toBeUndefined();
    expect(parsePidStat('12 (trunc) S 1 2')).toBeUndefined();
  });

  it('reads read_bytes/write_bytes, not rchar/wchar', () => {
    expect(parsePidIo('rchar: 5\nwchar: 6\nread_bytes: 4096\nwrite_bytes: 8192\n')).toEqual({ readBytes: 4096, writeBytes: 8192 });
    expect(parsePidIo('rchar: 5\n')).toBeUndefined();
  });

  it('joins cmdline arguments with spaces, shortens to 256 characters, and names kernel threads [comm]', () => {
    expect(formatCmdline('python3\0train.py\0--lr\x000.1\0', 'python3')).toBe('python3 train.py --lr 0.1');
    expect(formatCmdline('', 'kworker/0:1')).toBe('[kworker/0:1]');
    const long = formatCmdline(`${'x'.repeat(300)}\0y\0`, 'x');
    expect(long).toHaveLength(256);
    expect(long.endsWith('…')).toBe(true);
  });

  it('maps uids to the first passwd entry and skips malformed lines', () => {
    const users = parsePasswd('root:x:0:0::/:/bin/sh\n# comment\nbroken\ntoor:x:0:0::/:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n');
    expect([...users]).toEqual([
      [0, 'root'],
      [1001, 'bob'],
    ]);
  });
});

describe('ProcessReader on a fixture /proc', () => {
  let tmp: ReturnType<typeof tempDir>;
  let fx: FixtureProc;

  beforeEach(() => {
    tmp = tempDir('edgewatch-proc-');
    fx = new FixtureProc(tmp.dir);
  });
  afterEach(() => tmp.remove());

  /** First scan at uptime 1000 s; the test then changes the tree and scans 5 s later. */
  function firstScan(reader: ProcessReader): void {
    fx.uptime(1000);
    fx.put({ pid: 1, comm: 'systemd', utime: 100, stime: 50, rssPages: 3000, cmdline: '/sbin/init\0splash\0', io: { read: 0, write: 1000 } });
    fx.put({ pid: 2, comm: 'kthreadd', state: 'S', utime: 0, stime: 5, rssPages: 0, io: { read: 0, write: 0 } });
    fx.put({ pid: 42, comm: 'my (weird) app', state: 'R', utime: 1000, stime: 200, threads: 12, start: 40_000, rssPages: 50_000, cmdline: '/usr/bin/weird\0--flag\0a b\0', io: { read: 100, write: 100 } });
    fx.put({ pid: 7, comm: 'secret', state: 'R', utime: 10, stime: 10, start: 30_000, rssPages: 100, cmdline: 'secret\0', io: 'unreadable' });
    fx.put({ pid: 100, comm: 'old', utime: 9000, stime: 1000, start: 5000, rssPages: 10, cmdline: 'old\0', io: { read: 9_000_000, write: 0 } });
    fx.put({ pid: 300, comm: 'short-lived', utime: 1, stime: 1, start: 99_000, rssPages: 1, io: { read: 0, write: 0 } });
    const first = reader.scan(10_000);
    expect(first.rows).toBeUndefined(); // nothing to take a rate from yet
    expect(first.total).toBe(6);
    expect(first.running).toBe(2);
  }

  function secondScan(): void {
    fx.uptime(1005);
    fx.put({ pid: 1, comm: 'systemd', utime: 150, stime: 100, rssPages: 3000, cmdline: '/sbin/init\0splash\0', io: { read: 5_000_000, write: 501_000 } });
    fx.put({ pid: 2, comm: 'kthreadd', state: 'S', utime: 0, stime: 5, rssPages: 0, io: { read: 0, write: 0 } });
    fx.put({ pid: 42, comm: 'my (weird) app', state: 'R', utime: 1300, stime: 300, threads: 12, start: 40_000, rssPages: 50_000, cmdline: '/usr/bin/weird\0--flag\0a b\0', io: { read: 100, write: 100 } });
    fx.put({ pid: 7, comm: 'secret', state: 'R', utime: 135, stime: 135, start: 30_000, rssPages: 100, cmdline: 'secret\0', io: 'unreadable' });
    // pid 100 was reused: a new process (start 1002 s) that has used 30 ticks, not 10000 − 30.
    fx.put({ pid: 100, comm: 'new', state: 'D', utime: 20, stime: 10, start: 100_200, rssPages: 20, cmdline: 'new\0', io: { read: 2_000_000, write: 0 } });
    // pid 55 is new to the reader but started (500 s) long before the last scan: its baseline
    // was missed, so its 10000 lifetime ticks must not show as 2000 % now.
    fx.put({ pid: 55, comm: 'missed', utime: 10_000, stime: 0, start: 50_000, rssPages: 5, cmdline: 'missed\0', io: { read: 10, write: 10 } });
    fx.remove(300);
  }

  it('computes exact CPU % and I/O rates between two scans, per pid + start time', () => {
    const reader = new ProcessReader({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, pageSize: PAGE, log });
    firstScan(reader);
    secondScan();
    const scan = reader.scan(15_000);
    expect(scan.total).toBe(6);
    expect(scan.running).toBe(2);
    const rows = scan.rows!;
    expect(ProcessTableSchema.parse({ rows, total: scan.total })).toBeTruthy();
    expect(rows.map((r) => r.pid)).toEqual([42, 7, 1, 100, 55, 2]); // by CPU, ties by RSS

    // 400 ticks of 1/100 s in 5 s = 80 % of a core.
    expect(byPid(rows, 42)).toEqual({
      pid: 42,
      name: 'my (weird) app',
      cmd: '/usr/bin/weird --flag a b',
      user: 'alice',
      cpu: 80,
      rss: 50_000 * PAGE,
      readBps: 0,
      writeBps: 0,
      threads: 12,
    });
    // 100 ticks in 5 s = 20 %; (5 000 000 − 0) / 5 s and (501 000 − 1000) / 5 s.
    expect(byPid(rows, 1)).toMatchObject({ cpu: 20, readBps: 1_000_000, writeBps: 100_000, cmd: '/sbin/init splash', rss: 3000 * PAGE });
    // io not readable: rates absent, everything else there.
    const secret = byPid(rows, 7);
    expect(secret).toMatchObject({ cpu: 50, name: 'secret', cmd: 'secret', rss: 100 * PAGE });
    expect(secret).not.toHaveProperty('readBps');
    expect(secret).not.toHaveProperty('writeBps');
    // The reused pid: a new process whose whole usage falls in this interval.
    expect(byPid(rows, 100)).toMatchObject({ name: 'new', cpu: 6, readBps: 400_000, writeBps: 0, rss: 20 * PAGE });
    expect(byPid(rows, 2)).toMatchObject({ name: 'kthreadd', cmd: '[kthreadd]', cpu: 0, rss: 0 });
    const missed = byPid(rows, 55);
    expect(missed.cpu).toBe(0);
    expect(missed).not.toHaveProperty('readBps');
    // The exited pid 300 is no longer tracked.
    expect(reader.trackedPids).toBe(6);
  });

  it('keeps top N by CPU ∪ top N by memory, sorted by CPU', () => {
    const reader = new ProcessReader({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, pageSize: PAGE, top: 2, log });
    firstScan(reader);
    secondScan();
    // CPU: 42 (80), 7 (50); memory: 42, 1. Union, by CPU.
    expect(reader.scan(15_000).rows!.map((r) => [r.pid, r.cpu])).toEqual([
      [42, 80],
      [7, 50],
      [1, 20],
    ]);
  });

  it('gives counts but no rates when scanned again too soon, and keeps the old baseline', () => {
    const reader = new ProcessReader({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, pageSize: PAGE, log });
    firstScan(reader);
    secondScan();
    const early = reader.scan(10_100);
    expect(early.rows).toBeUndefined();
    expect(early.total).toBe(6);
    // Still measured from the first scan, 5 s before.
    expect(byPid(reader.scan(15_000).rows!, 42).cpu).toBe(80);
  });

  it('shows the uid when passwd has no name for it', () => {
    rmSync(join(fx.hostRoot, 'etc/passwd'));
    const reader = new ProcessReader({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, pageSize: PAGE, log });
    firstScan(reader);
    secondScan();
    expect(byPid(reader.scan(15_000).rows!, 42).user).toBe(String(process.getuid!()));
  });

  it('refuses a table size the protocol cannot carry', () => {
    expect(() => new ProcessReader({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, top: 51, log })).toThrow(/top processes 51 is out of range/);
  });

  describe('source with nvidia-smi', () => {
    async function takeTwice(source: ProcessTableSource): Promise<{ table: ProcessTable; m: Record<string, number> }> {
      const m: Record<string, number> = {};
      expect(await source.take(Date.now(), m)).toBeUndefined(); // primes the rates
      expect(m).toEqual({ 'procs.count': 6, 'procs.running': 2 });
      await new Promise((r) => setTimeout(r, 550));
      const m2: Record<string, number> = {};
      const table = await source.take(Date.now(), m2);
      if (!table) throw new Error('no table on the second take');
      return { table, m: m2 };
    }

    function fakeSmi(script: string): string {
      const bin = join(tmp.dir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'nvidia-smi'), `#!/bin/sh\n${script}\n`);
      chmodSync(join(bin, 'nvidia-smi'), 0o755);
      return bin;
    }

    it('adds GPU memory from --query-compute-apps to matching rows, summed over GPUs', async () => {
      firstScanTree();
      const bin = fakeSmi(`[ "$1" = "--query-compute-apps=pid,used_memory" ] && [ "$2" = "--format=csv,noheader,nounits" ] || exit 2\nprintf '42, 1024\\n42, 512\\n9999, 100\\n1, [N/A]\\n'`);
      const source = (await createProcessTableSource({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, path: bin, intervalMs: 5000, gpuWaitMs: 5000, pageSize: PAGE, log }))!;
      const { table, m } = await takeTwice(source);
      expect(m).toEqual({ 'procs.count': 6, 'procs.running': 2 });
      expect(table.total).toBe(6);
      expect(byPid(table.rows, 42).gpuMem).toBe(1536 * 1024 * 1024);
      expect(byPid(table.rows, 1)).not.toHaveProperty('gpuMem');
      expect(byPid(table.rows, 7)).not.toHaveProperty('gpuMem');
      await source.close();
    });

    it('leaves GPU memory out, quietly, when nvidia-smi is absent or fails', async () => {
      firstScanTree();
      for (const path of [join(tmp.dir, 'empty-bin'), fakeSmi('echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver"; exit 9')]) {
        const source = (await createProcessTableSource({ procRoot: fx.procRoot, hostRoot: fx.hostRoot, path, intervalMs: 5000, gpuWaitMs: 5000, pageSize: PAGE, log }))!;
        const { table } = await takeTwice(source);
        expect(table.rows.length).toBe(6);
        expect(table.rows.some((r) => r.gpuMem !== undefined)).toBe(false);
        await source.close();
      }
    });

    it('is off when the proc root holds no processes', async () => {
      expect(await createProcessTableSource({ procRoot: join(tmp.dir, 'nothing'), hostRoot: fx.hostRoot, path: '', intervalMs: 5000, log })).toBeNull();
    });

    function firstScanTree(): void {
      fx.uptime(1000);
      fx.put({ pid: 1, comm: 'systemd', utime: 100, stime: 50, rssPages: 3000, io: { read: 0, write: 0 } });
      fx.put({ pid: 2, comm: 'kthreadd', utime: 0, stime: 5, rssPages: 0 });
      fx.put({ pid: 42, comm: 'trainer', state: 'R', utime: 1000, stime: 200, start: 40_000, rssPages: 50_000 });
      fx.put({ pid: 7, comm: 'secret', state: 'R', utime: 10, stime: 10, rssPages: 100 });
      fx.put({ pid: 100, comm: 'a', utime: 1, stime: 1, rssPages: 1 });
      fx.put({ pid: 101, comm: 'b', utime: 1, stime: 1, rssPages: 1 });
    }
  });
});

describe('Sampler process cadence', () => {
  class FakeSource implements ProcessTableSource {
    calls: number[] = [];
    async take(now: number, out: Record<string, number>): Promise<ProcessTable | undefined> {
      this.calls.push(now);
      out['procs.count'] = 3;
      // The first call primes, like the real source.
      return this.calls.length === 1 ? undefined : { rows: [], total: 3 };
    }
    async close(): Promise<void> {}
  }
  const cpu: Collector = { name: 'cpu', sample: (_now, out) => void (out['cpu.util'] = 1) };

  it('asks again on the next tick after priming, then every processIntervalMs, and carries the table as p', async () => {
    const source = new FakeSource();
    const sampler = new Sampler([cpu], 1000, log, () => {}, { source, everyMs: 5000 });
    const samples = [];
    // Ticks with a little jitter either way, as timers give.
    for (const t of [0, 1000, 2010, 2990, 4000, 5000, 6005, 6990, 8000, 9000, 10_000, 11_000, 12_000]) samples.push(await sampler.sampleOnce(t));
    expect(source.calls).toEqual([0, 1000, 6005, 11_000]);
    const withTable = samples.filter((s) => s.p !== undefined).map((s) => s.t);
    expect(withTable).toEqual([1000, 6005, 11_000]);
    expect(samples[1]).toEqual({ t: 1000, m: { 'cpu.util': 1, 'procs.count': 3 }, p: { rows: [], total: 3 } });
    expect(samples[2]).toEqual({ t: 2010, m: { 'cpu.util': 1 } });
  });

  it('keeps sampling metrics when the source throws, and retries a cadence later', async () => {
    let calls = 0;
    const failing: ProcessTableSource = {
      take: async () => {
        calls++;
        throw new Error('boom');
      },
      close: async () => {},
    };
    const sampler = new Sampler([cpu], 1000, log, () => {}, { source: failing, everyMs: 5000 });
    const samples = [];
    for (let t = 0; t <= 6000; t += 1000) samples.push(await sampler.sampleOnce(t));
    expect(calls).toBe(2); // t=0 and t=5000
    expect(samples.every((s) => s.m['cpu.util'] === 1 && s.p === undefined)).toBe(true);
  });
});

describe('ProcessReader on this machine\'s /proc', () => {
  it('finds a busy child near the top by CPU with a plausible CPU %', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 4000; while (Date.now() < end) {}', 'edgewatch-busy-marker'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200)); // let it start spinning
      const reader = new ProcessReader({ procRoot: '/proc', hostRoot: '/', log });
      expect(reader.scan(performance.now()).rows).toBeUndefined();
      await new Promise((r) => setTimeout(r, 1500));
      const scan = reader.scan(performance.now());
      const rows = scan.rows!;
      expect(ProcessTableSchema.safeParse({ rows, total: scan.total }).success).toBe(true);
      const busy = byPid(rows, child.pid!);
      // One spinning thread: ~100 % of a core, less when the test workers share the CPUs.
      expect(busy.cpu).toBeGreaterThan(30);
      expect(busy.cpu).toBeLessThan(130);
      expect(rows.findIndex((r) => r.pid === child.pid)).toBeLessThan(3);
      expect(busy.name).toBe('node');
      expect(busy.cmd).toContain('edgewatch-busy-marker');
      expect(busy.rss).toBeGreaterThan(10 * 1024 * 1024);
      expect(busy.user).toBe(userInfo().username);
      expect(scan.total).toBeGreaterThan(1);
      expect(scan.running).toBeGreaterThanOrEqual(1);
      // Where this test cannot read a process's io, neither could the reader: no rates shown.
      for (const row of rows) {
        let readable = true;
        try {
          readFileSync(`/proc/${row.pid}/io`);
        } catch (err) {
          readable = (err as NodeJS.ErrnoException).code !== 'EACCES' && (err as NodeJS.ErrnoException).code !== 'EPERM';
        }
        if (!readable) expect(row, `pid ${row.pid}`).not.toHaveProperty('readBps');
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});
